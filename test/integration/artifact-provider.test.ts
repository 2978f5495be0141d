/**
 * The artifact resource's dynamic provider, called directly (as the engine would) against a real
 * registry with basic auth over TLS: create pushes, diff decides from url/tag/digest only,
 * update pushes the new content, and errors never carry the password.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { artifactProvider, type ArtifactState } from "../../components/policyArtifact";
import { prepareArtifact } from "../../lib/publish";
import { resolveTag } from "../../lib/oci";
import { samplePoliciesDir } from "../harness/paths";
import { tempDir } from "../support/registry-artifact";
import { startRegistry, type RegistryHandle } from "../harness/registry";

const PASSWORD = "pro:vider@pw";

describe("PolicyArtifact dynamic provider against a real registry", () => {
    let reg: RegistryHandle;
    const tmp = tempDir("artifact-provider");

    async function inputs(dir: string, tag: string, extra: Partial<ArtifactState> = {}): Promise<ArtifactState> {
        const prepared = await prepareArtifact(dir);
        const url = reg.url("policies");
        return {
            path: prepared.path, url, tag, digest: prepared.digest, layerDigest: prepared.layerDigest,
            source: prepared.source, sourceRevision: prepared.sourceRevision, created: prepared.created,
            insecure: false, caFile: reg.caFile, username: reg.username, password: reg.password, force: false,
            policies: Object.fromEntries(prepared.policies.map((p) => [p.key, { kind: p.kind, digest: p.digest, enforcement: p.enforcement, file: p.file }])),
            repository: "policies", revision: `${tag}@${prepared.digest}`, ...extra,
        };
    }
    const registryDigest = (tag: string) => resolveTag({ url: reg.url("policies"), tag, credentials: { username: reg.username!, password: reg.password! }, caFile: reg.caFile });

    before(async () => {
        reg = await startRegistry({ mode: "basic-tls", username: "bot", password: PASSWORD });
    });
    after(async () => {
        await reg?.stop();
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    test("create pushes the artifact; outputs carry no password", async () => {
        const news = await inputs(samplePoliciesDir, "1.0.0");
        const result = await artifactProvider.create!(news);
        assert.equal(result.id, `${news.url}:1.0.0`);
        assert.equal(await registryDigest("1.0.0"), news.digest);
        assert.equal(result.outs.password, undefined);
        assert.equal(result.outs.revision, `1.0.0@${news.digest}`);
        assert.equal(result.outs.blobsUploaded, 2);
    });

    test("diff: unchanged content, a moved checkout or new credentials are no change; a new digest or tag is", async () => {
        const olds = await inputs(samplePoliciesDir, "1.0.0");
        assert.equal((await artifactProvider.diff!("id", olds, { ...olds, path: "/elsewhere", password: "rotated" })).changes, false);
        assert.equal((await artifactProvider.diff!("id", olds, { ...olds, tag: "1.0.1" })).changes, true);
        assert.equal((await artifactProvider.diff!("id", olds, { ...olds, digest: "sha256:" + "0".repeat(64) })).changes, true);
        const d = await artifactProvider.diff!("id", olds, { ...olds, tag: "1.0.1" });
        assert.deepEqual(d.replaces, [], "an update, never a replacement");
    });

    test("update under a new tag pushes the changed policies; the old tag is untouched", async () => {
        const changed = path.join(tmp, "changed");
        fs.cpSync(samplePoliciesDir, changed, { recursive: true });
        fs.rmSync(path.join(changed, "require-labels.yaml"));
        const olds = await inputs(samplePoliciesDir, "1.0.0");
        const news = await inputs(changed, "1.0.1");
        assert.notEqual(news.digest, olds.digest);
        const result = await artifactProvider.update!("id", olds, news);
        assert.equal(await registryDigest("1.0.1"), news.digest);
        assert.equal(await registryDigest("1.0.0"), olds.digest);
        // Flux's config blob records the layer's diff_id, so both blobs are new.
        assert.equal(result.outs.blobsUploaded, 2);
    });

    test("moving an existing tag is refused without force, allowed with it", async () => {
        const changed = path.join(tmp, "changed");
        const news = await inputs(changed, "1.0.0");
        await assert.rejects(artifactProvider.update!("id", await inputs(samplePoliciesDir, "1.0.0"), news), /already points at .*; bump policy-stack:artifactTag .* or set policy-stack:forcePush true$/);
        await artifactProvider.update!("id", await inputs(samplePoliciesDir, "1.0.0"), { ...news, force: true });
        assert.equal(await registryDigest("1.0.0"), news.digest);
    });

    test("policies edited after the preview are refused, not shipped", async () => {
        const dir = path.join(tmp, "edited-after-preview");
        fs.cpSync(samplePoliciesDir, dir, { recursive: true });
        const news = await inputs(dir, "2.0.0");
        fs.rmSync(path.join(dir, "require-probes.yaml"));
        await assert.rejects(artifactProvider.create!(news), /changed after the preview/);
        assert.equal(await registryDigest("2.0.0"), undefined);
    });

    test("a wrong password fails with the registry and repository named, never the password", async () => {
        const news = await inputs(samplePoliciesDir, "3.0.0", { password: "wrong:pass@word" });
        const error = await artifactProvider.create!(news).then(() => undefined, (e: Error) => e);
        assert.ok(error instanceof Error);
        assert.match(error.message, new RegExp(`registry ${reg.host.replace(/[.]/g, "\\.")}, repository policies`));
        assert.ok(!error.message.includes("wrong:pass@word") && !error.message.includes(Buffer.from("bot:wrong:pass@word").toString("base64")));
    });
});
