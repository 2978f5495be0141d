/**
 * The artifact resource's dynamic provider, called directly (as the engine would) against a real
 * registry with basic auth over TLS: create pushes, diff decides from url/tag/digest only,
 * update pushes the new content, and errors never carry the password. With a signing key: the
 * push is signed (verified by lib/signing as cosign would), an unchanged artifact is not signed
 * again, a new key re-signs, and neither the key nor its password reaches the outputs.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { artifactProvider, type ArtifactState } from "../../components/policyArtifact";
import { prepareArtifact } from "../../lib/publish";
import { resolveTag } from "../../lib/oci";
import { loadPublicKeys, loadSigningKey, verifyArtifact } from "../../lib/signing";
import { cosignFixture, ecKeyPair, pkcs8Pem, spkiPem } from "../support/signing-fixtures";
import { signingKeySecretSpec } from "../support/signing-secrets";
import { assertNoSecrets } from "../support/secrets-scan";
import { publishedSignatureLine } from "../../lib/preview/signature";
import { replaySignature } from "../support/e2e-signing";
import { samplePoliciesDir } from "../harness/paths";
import { tempDir } from "../support/registry-artifact";
import { startRegistry, type RegistryHandle } from "../harness/registry";

const PASSWORD = "pro:vider@pw";

/**
 * The engine's dynamic provider hands `outs` to protobuf's Struct.fromJavaScript unserialised,
 * which throws "Unexpected struct type" on an undefined value: none may be there.
 */
function assertEngineReadable(outs: Record<string, unknown>): void {
    assert.deepEqual(Object.keys(outs).filter((k) => outs[k] === undefined), [], "no output is undefined");
}

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
        assertEngineReadable(result.outs);
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

    describe("signing", () => {
        const fingerprint = async (pem: string, password?: string) => (await loadSigningKey(pem, password)).publicKey.fingerprint;
        const verify = (tag: string, pub: string) => verifyArtifact({
            url: reg.url("policies"), tag, publicKeys: loadPublicKeys(pub), credentials: { username: reg.username!, password: reg.password! }, caFile: reg.caFile,
        });
        const cosignKey = { signingKey: cosignFixture.key, signingKeyPassword: cosignFixture.password };

        test("create pushes and signs with a cosign key; the outputs name the signature and carry neither key nor password", async () => {
            const news = await inputs(samplePoliciesDir, "4.0.0", { ...cosignKey, signingKeyFingerprint: await fingerprint(cosignFixture.key, cosignFixture.password) });
            const result = await artifactProvider.create!(news);
            const verdict = await verify("4.0.0", cosignFixture.pub);
            assert.equal(verdict.status, "verified", verdict.message);
            assert.equal(result.outs.signatureTag, `${news.digest.replace(":", "-")}.sig`);
            assert.match(result.outs.signatureDigest, /^sha256:[0-9a-f]{64}$/);
            assert.equal(result.outs.signingKeyFingerprint, news.signingKeyFingerprint);
            assertEngineReadable(result.outs);
            assert.equal(result.outs.signingKey, undefined);
            assert.equal(result.outs.signingKeyPassword, undefined);
            const key = await loadSigningKey(cosignFixture.key, cosignFixture.password);
            assertNoSecrets({ texts: { outputs: JSON.stringify(result.outs) } }, signingKeySecretSpec(cosignFixture.key, cosignFixture.password, key.privateKey));
        });

        test("diff: the same key is no change, a new key (by fingerprint) is one; update re-signs with it", async () => {
            const olds = await inputs(samplePoliciesDir, "4.0.0", { ...cosignKey, signingKeyFingerprint: await fingerprint(cosignFixture.key, cosignFixture.password) });
            assert.equal((await artifactProvider.diff!("id", olds, { ...olds, signingKeyPassword: "rotated" })).changes, false);
            const { privateKey } = ecKeyPair();
            const pem = pkcs8Pem(privateKey);
            const news = { ...olds, signingKey: pem, signingKeyPassword: undefined, signingKeyFingerprint: await fingerprint(pem) };
            assert.equal((await artifactProvider.diff!("id", olds, news)).changes, true);
            await artifactProvider.update!("id", olds, news);
            assert.equal((await verify("4.0.0", spkiPem(privateKey))).status, "verified", "the new key signed");
            assert.equal((await verify("4.0.0", cosignFixture.pub)).status, "other-key", "the old key's signature was replaced");
        });

        test("the preview's signature line: signed by a trusted key, or not (the tag of the first test is unsigned)", async () => {
            const { privateKey } = ecKeyPair();
            const pem = pkcs8Pem(privateKey);
            await artifactProvider.create!(await inputs(samplePoliciesDir, "5.0.0", { signingKey: pem, signingKeyFingerprint: await fingerprint(pem) }));
            const signing = { verification: "cosign" as const, publicKeys: loadPublicKeys(spkiPem(privateKey)).map((k) => ({ pem: k.pem, fingerprint: k.fingerprint })), identities: [] };
            const connection = { url: reg.url("policies"), signing, credentials: { username: reg.username!, password: reg.password! }, caFile: reg.caFile, insecure: false };
            assert.match((await publishedSignatureLine({ ...connection, tag: "5.0.0" }))!, /^signature: oci:\/\/\S+:5\.0\.0 is signed by a trusted key \(sha256:[0-9a-f]{16}\)$/);
            assert.match((await publishedSignatureLine({ ...connection, tag: "1.0.0" }))!, /^signature: oci:\/\/\S+:1\.0\.0 is NOT signed by a trusted key, so Flux refuses it: sha256:[0-9a-f]{64} has no cosign signature/);
            assert.match((await publishedSignatureLine({ ...connection, tag: "1.0.0", signing: { ...signing, publicKeys: [{ pem: cosignFixture.pub, fingerprint: "sha256:x" }] } }))!,
                /is NOT signed by a trusted key, so Flux refuses it/);
            // A replay: the signature of 5.0.0's manifest copied beside 1.0.1's (unsigned, other content).
            await replaySignature(reg, "policies", (await registryDigest("5.0.0"))!, (await registryDigest("1.0.1"))!);
            assert.match((await publishedSignatureLine({ ...connection, tag: "1.0.1" }))!,
                /is NOT signed by a trusted key, a signature of another manifest was copied beside it \(source-controller accepts such a copy, cosign does not\): .*names another manifest/);
        });

        test("a key other than the one the preview saw is refused before the push, naming fingerprints only", async () => {
            const news = await inputs(samplePoliciesDir, "4.0.0", { ...cosignKey, signingKeyFingerprint: "sha256:" + "0".repeat(64) });
            const other = { ...news, tag: "4.0.2" };
            await assert.rejects(artifactProvider.create!(other), /the signing key is sha256:[0-9a-f]{16}, not the sha256:0{16} the preview showed/);
            assert.equal(await registryDigest("4.0.2"), undefined, "nothing was pushed");
        });

        test("a wrong key password fails without quoting the key or the password", async () => {
            const news = await inputs(samplePoliciesDir, "4.0.1", { signingKey: cosignFixture.key, signingKeyPassword: "not-the-fixture-password" });
            const error = await artifactProvider.create!(news).then(() => undefined, (e: Error) => e);
            assert.ok(error instanceof Error);
            assert.match(error.message, /the password does not decrypt the cosign private key/);
            assertNoSecrets({ texts: { error: `${error.message}\n${error.stack}` } }, signingKeySecretSpec(cosignFixture.key, "not-the-fixture-password"));
        });
    });
});
