/**
 * The preview's policy-by-policy comparison against a real registry (basic auth over TLS): the
 * tag Flux would select is found among the registry's tags and its content compared.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildArtifact } from "../../lib/artifact";
import { summarise } from "../../lib/preview/diff";
import { pushImage } from "../../lib/oci";
import { loadPolicyDir } from "../../lib/policies";
import { compareWithPublished, selectTag } from "../../lib/preview/published";
import { samplePoliciesDir } from "../harness/paths";
import { tempDir } from "../support/registry-artifact";
import { startRegistry, type RegistryHandle } from "../harness/registry";

describe("comparison with the published artifact", () => {
    let reg: RegistryHandle;
    const tmp = tempDir("published");

    async function push(dir: string, tag: string): Promise<void> {
        const built = await buildArtifact(dir, { outFile: path.join(tmp, `${tag}.tgz`) });
        await pushImage({
            url: reg.url("policies"), tag, manifest: built.manifest, config: built.config, layers: [built.layer],
            credentials: { username: reg.username!, password: reg.password! }, caFile: reg.caFile,
        });
    }
    const local = async (dir: string) => (await loadPolicyDir(dir)).policies.map(summarise);
    const options = async (dir: string, semverRange: string) => ({
        url: reg.url("policies"), tag: "1.0.0", semverRange, local: await local(dir),
        credentials: { username: reg.username!, password: reg.password! }, caFile: reg.caFile,
    });

    before(async () => {
        reg = await startRegistry({ mode: "basic-tls", username: "team", password: "s3cret:@pw" });
    });
    after(async () => {
        await reg?.stop();
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    test("tag selection follows Flux's semver rules", () => {
        assert.equal(selectTag(["1.0.0", "1.2.0", "2.0.0", "latest", "1.3.0-rc.1"], "1.x"), "1.2.0");
        assert.equal(selectTag(["v1.0.0", "v1.10.0", "v1.9.0"], ">=1.0.0"), "v1.10.0");
        assert.equal(selectTag(["2.0.0"], "1.x"), undefined);
    });

    test("nothing published: every policy is new", async () => {
        const c = await compareWithPublished(await options(samplePoliciesDir, ">=1.0.0"));
        assert.equal(c.publishedTag, undefined);
        assert.equal(c.tagDigest, undefined);
        assert.match(c.summary, /^policies: \+12 ~0 -0 vs nothing published in range ">=1\.0\.0"/);
    });

    test("one edited, one added, one removed against the highest tag in range", async () => {
        await push(samplePoliciesDir, "1.0.0");
        const edited = path.join(tmp, "edited");
        fs.cpSync(samplePoliciesDir, edited, { recursive: true });
        const file = path.join(edited, "disallow-latest-tag.yaml");
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("validationFailureAction: Audit", "validationFailureAction: Enforce"));
        fs.rmSync(path.join(edited, "require-labels.yaml"));
        fs.writeFileSync(path.join(edited, "extra.yaml"), fs.readFileSync(path.join(samplePoliciesDir, "require-labels.yaml"), "utf8").replace("name: require-labels", "name: require-team-labels"));
        await push(edited, "0.9.0"); // lower: not what Flux serves
        const c = await compareWithPublished(await options(edited, ">=0.1.0"));
        assert.equal(c.publishedTag, "1.0.0");
        assert.match(c.tagDigest ?? "", /^sha256:[0-9a-f]{64}$/, "the stack's own tag is resolved");
        assert.match(c.summary, new RegExp(`^policies: \\+1 ~1 -1 vs ${reg.url("policies").replace(/[.]/g, "\\.")}:1\\.0\\.0$`));
        assert.match(c.text, /^\+ ClusterPolicy\/require-team-labels/m);
        assert.match(c.text, /^- ClusterPolicy\/require-labels/m);
        assert.match(c.text, /^~ ClusterPolicy\/disallow-latest-tag\n {4}enforcement: Audit -> Enforce/m);
        assert.ok(!c.summary.includes("s3cret") && !c.text.includes("s3cret"));
    });

    test("when the published digest is the local one, nothing is pulled and nothing differs", async () => {
        const built = await buildArtifact(samplePoliciesDir, { outFile: path.join(tmp, "same.tgz") });
        const c = await compareWithPublished({ ...(await options(samplePoliciesDir, "1.0.0")), localDigest: built.manifestDigest });
        assert.equal(c.publishedTag, "1.0.0");
        assert.match(c.summary, /^policies: \+0 ~0 -0 vs /);
        assert.equal(c.diff.unchanged.length, 12);
    });

    test("an unreachable registry fails fast with a clear error", async () => {
        await assert.rejects(
            compareWithPublished({ url: "oci://127.0.0.1:9/policies", tag: "1.0.0", semverRange: "1.x", local: [], insecure: true, timeoutMs: 2000 }),
            /127\.0\.0\.1:9/,
        );
    });
});
