/**
 * Promotion against two real registries (Debian's docker-registry, each htpasswd over TLS with its
 * own CA and credentials): the program's preparation (lib/promote.ts preparePromotion: the source
 * pulled by digest, its policies loaded) and the dynamic provider's copy (promoteArtifact): the
 * same manifest bytes in the second registry, the source's cosign signature copied along (or
 * replaced by this stack's), a second run writing nothing, refusals naming the right config keys,
 * and a stale source refused naming both digests.
 */
import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import { after, before, describe, it } from "node:test";

import { fetchManifest, resolveTag, type ClientOptions } from "../../lib/oci";
import { preparePromotion, promoteArtifact, StalePromotionError, type PromoteInputs, type PromotionSource } from "../../lib/promote";
import { prepareArtifact, publishPolicies } from "../../lib/publish";
import { publicKeyOf, signArtifact, verifyArtifact, type SigningKey } from "../../lib/signing";
import { samplePoliciesDir } from "../harness/paths";
import { startRegistry, type RegistryHandle } from "../harness/registry";
import { changedSampleCopy } from "../support/registry-artifact";

const fast: ClientOptions = { retry: { baseDelayMs: 20 } };
const connection = (r: RegistryHandle): ClientOptions => ({ ...fast, caFile: r.caFile, insecure: false, credentials: { username: r.username!, password: r.password! } });
const writes = (r: RegistryHandle) => r.writes().length;

/** The error `p` rejects with; fails when it resolves. */
async function rejection(p: Promise<unknown>): Promise<Error> {
    const outcome = await p.then(() => undefined, (e: unknown) => e);
    assert.ok(outcome instanceof Error, `expected a refusal, got ${String(outcome)}`);
    return outcome;
}

function keyPair(): SigningKey {
    const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
    return { privateKey, publicKey: publicKeyOf(privateKey), kind: "pkcs8" };
}

describe("promotion between two registries, each with its own credentials over TLS", () => {
    let staging: RegistryHandle;
    let prod: RegistryHandle;
    let digest: string;
    let source: PromotionSource;
    const stagingKey = keyPair();

    /** The provider's inputs for a promotion of `digest` to prod's `tag`. */
    const inputs = (over: Partial<PromoteInputs> = {}): PromoteInputs => ({
        path: `${source.url}@${digest}`, url: prod.url("prod/policies"), tag: "1.0.0", digest, layerDigest: "", insecure: false, caFile: prod.caFile,
        username: prod.username, password: prod.password, force: false,
        sourceStack: "staging", sourceUrl: source.url, sourceUsername: staging.username, sourcePassword: staging.password, sourceCaFile: staging.caFile, sourceInsecure: false,
        ...over,
    });

    before(async () => {
        [staging, prod] = await Promise.all([startRegistry({ mode: "basic-tls" }), startRegistry({ mode: "basic-tls" })]);
        const pushed = await publishPolicies({ ...connection(staging), path: samplePoliciesDir, url: staging.url("staging/policies"), tag: "1.0.0" });
        digest = pushed.digest;
        await signArtifact({ ...connection(staging), url: staging.url("staging/policies"), digest, key: stagingKey });
        source = { stack: "acme/policy-stack/staging", url: staging.url("staging/policies"), digest, tag: "1.0.0", ...connection(staging) };
    });
    after(async () => {
        await Promise.all([staging?.stop(), prod?.stop()]);
    });

    it("preparation reads the source by digest: its digest, never a rebuild, and the same policies a build sees", async () => {
        const prepared = await preparePromotion(source);
        const built = await prepareArtifact(samplePoliciesDir);
        assert.equal(prepared.digest, digest);
        assert.equal(prepared.path, `${source.url}@${digest}`);
        assert.equal(prepared.sourceSignatureDigest, await resolveTag({ ...connection(staging), url: source.url, tag: `${digest.replace(":", "-")}.sig` }), "the source's signature, read");
        assert.match(String(prepared.sourceSignatureDigest), /^sha256:[0-9a-f]{64}$/);
        assert.deepEqual(prepared.policies.map((p) => [p.key, p.digest, p.enforcement]), built.policies.map((p) => [p.key, p.digest, p.enforcement]));
        assert.deepEqual(prepared.summaries, built.summaries);
    });

    it("the copy puts the same manifest bytes under prod's tag, and the source signature along: it verifies in prod", async () => {
        const unsignedBefore = await verifyArtifact({ ...connection(prod), url: prod.url("prod/policies"), digest, publicKeys: [stagingKey.publicKey] });
        assert.equal(unsignedBefore.status, "unsigned", "nothing in prod before the copy");
        const result = await promoteArtifact(inputs());
        assert.equal(result.digest, digest);
        assert.equal(result.blobsUploaded, 2, "config and layer streamed across registries");
        assert.ok(result.copiedSignature, "the source's .sig was copied");
        assert.equal(result.signature, undefined, "this stack has no key of its own");
        const [from, to] = await Promise.all([
            fetchManifest({ ...connection(staging), url: staging.url("staging/policies"), reference: "1.0.0" }),
            fetchManifest({ ...connection(prod), url: prod.url("prod/policies"), reference: "1.0.0" }),
        ]);
        assert.ok(from && to);
        assert.ok(to.body.equals(from.body), "byte for byte");
        const verdict = await verifyArtifact({ ...connection(prod), url: prod.url("prod/policies"), tag: "1.0.0", publicKeys: [stagingKey.publicKey] });
        assert.equal(verdict.status, "verified", verdict.message);
    });

    it("a second promotion of the same digest writes nothing", async () => {
        const before = writes(prod);
        const again = await promoteArtifact(inputs());
        assert.equal(again.blobsUploaded, 0);
        assert.equal(writes(prod), before, "no PUT, POST or PATCH in prod's registry");
    });

    it("with this stack's own key, prod signs the copy itself, replacing the copied signature", async () => {
        const prodKey = keyPair();
        const result = await promoteArtifact(inputs({
            url: prod.url("prod-signed/policies"), signingKey: prodKey.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), signingKeyFingerprint: prodKey.publicKey.fingerprint,
        }));
        assert.ok(result.signature);
        assert.equal(result.copiedSignature, undefined);
        const mine = await verifyArtifact({ ...connection(prod), url: prod.url("prod-signed/policies"), tag: "1.0.0", publicKeys: [prodKey.publicKey] });
        assert.equal(mine.status, "verified", mine.message);
        const theirs = await verifyArtifact({ ...connection(prod), url: prod.url("prod-signed/policies"), tag: "1.0.0", publicKeys: [stagingKey.publicKey] });
        assert.notEqual(theirs.status, "verified", "only this stack's signature is there");
    });

    it("prod's tag holding other content is refused before any write, naming the config keys", async () => {
        const otherDir = changedSampleCopy();
        const other = await publishPolicies({ ...connection(staging), path: otherDir, url: staging.url("staging/policies"), tag: "1.0.1" });
        const before = writes(prod);
        const err = await rejection(promoteArtifact(inputs({ digest: other.digest })));
        assert.match(err.message, new RegExp(`tag "1.0.0" in oci://${prod.host}/prod/policies already points at ${digest}, not at the copied ${other.digest}`));
        assert.match(err.message, /bump policy-stack:artifactTag .* or set policy-stack:forcePush true/);
        assert.equal(writes(prod), before);
    });

    it("the source registry refusing its credentials names the promoteFrom* keys, and prod's refusing them the registry* keys", async () => {
        const wrongSource = await rejection(promoteArtifact(inputs({ url: prod.url("other/policies"), sourcePassword: "not-the-password" })));
        assert.match(wrongSource.message, /check policy-stack:promoteFromUsername and policy-stack:promoteFromPassword/);
        assert.ok(!wrongSource.message.includes(staging.password!), "the password is not in the message");
        const wrongTarget = await rejection(promoteArtifact(inputs({ url: prod.url("other/policies"), password: "not-the-password" })));
        assert.match(wrongTarget.message, /check policy-stack:registryUsername and policy-stack:registryPassword/);
        assert.equal(await resolveTag({ ...connection(prod), url: prod.url("other/policies"), tag: "1.0.0" }), undefined, "nothing was tagged");
    });

    it("a source whose outputs name a digest its registry no longer serves is refused, naming both digests", async () => {
        const current = await resolveTag({ ...connection(staging), url: staging.url("staging/policies"), tag: "1.0.0" });
        assert.equal(current, digest, "the tag exists and points at the promoted digest");
        const gone = `sha256:${"0".repeat(64)}`;
        const err = await rejection(preparePromotion({ ...source, digest: gone }));
        assert.ok(err instanceof StalePromotionError, String(err));
        assert.match(err.message, new RegExp(`outputs artifactDigest ${gone}, which oci://${staging.host}/staging/policies no longer serves; its tag 1.0.0 now points at ${digest}`));
    });
});
