/**
 * copyImage between repositories of one registry (blob mount: nothing travels) and across two
 * (anonymous HTTP → htpasswd over TLS, each with its own credentials): the manifest bytes and
 * digest are the same at both ends, a second copy moves nothing, and a cosign signature copied
 * along still verifies at the destination, because it names the digest, which did not change.
 */
import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import { after, before, describe, it } from "node:test";

import type { BuiltArtifact } from "../../lib/artifact";
import { copyImage, fetchManifest, OciError, pushImage, resolveTag, type ClientOptions } from "../../lib/oci";
import { publicKeyOf, signArtifact, verifyArtifact, type SigningKey } from "../../lib/signing";
import { startRegistry, type RegistryHandle } from "../harness/registry";
import { buildSample, changedSampleCopy, layersOf } from "../support/registry-artifact";

describe("copyImage: the same bytes in another repository or registry", () => {
    let anon: RegistryHandle;
    let tls: RegistryHandle;
    let sample: BuiltArtifact;
    let digest: string;
    let key: SigningKey;
    const fast: ClientOptions = { retry: { baseDelayMs: 20 } };
    const tlsClient = (): ClientOptions => ({ ...fast, caFile: tls.caFile, credentials: { username: tls.username!, password: tls.password! } });

    before(async () => {
        [anon, tls] = await Promise.all([startRegistry({ mode: "anonymous" }), startRegistry({ mode: "basic-tls" })]);
        sample = await buildSample();
        digest = (await pushImage({ ...fast, url: anon.url("dev/policies"), tag: "1.0.0", manifest: sample.manifest, config: sample.config, layers: layersOf(sample) })).digest;
        const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
        key = { privateKey, publicKey: publicKeyOf(privateKey), kind: "pkcs8" };
    });
    after(async () => {
        await Promise.all([anon?.stop(), tls?.stop()]);
    });

    it("same registry: every blob mounted, the manifest byte for byte", async () => {
        const result = await copyImage({ from: { ...fast, url: anon.url("dev/policies"), digest }, to: { ...fast, url: anon.url("prod/policies"), tag: "1.0.0" } });
        assert.equal(result.digest, digest);
        assert.equal(result.mounted.length, 2, "config and layer mounted");
        assert.deepEqual([result.copied, result.present], [[], []]);
        assert.equal(result.stats.to.blobsMounted, 2);
        assert.equal(result.stats.to.blobsUploaded, 0);
        const [source, copy] = await Promise.all([
            fetchManifest({ ...fast, url: anon.url("dev/policies"), reference: digest }),
            fetchManifest({ ...fast, url: anon.url("prod/policies"), reference: "1.0.0" }),
        ]);
        assert.ok(source && copy);
        assert.ok(copy.body.equals(source.body));
        assert.equal(copy.digest, digest);
    });

    it("another registry with its own credentials over TLS: blobs streamed, same digest; a second copy moves nothing", async () => {
        const to = { ...tlsClient(), url: tls.url("prod/policies"), tag: "1.0.0" };
        const first = await copyImage({ from: { ...fast, url: anon.url("dev/policies"), digest }, to });
        assert.equal(first.digest, digest);
        assert.equal(first.copied.length, 2);
        assert.equal(first.mounted.length, 0, "no mount across registries");
        assert.equal(await resolveTag({ ...tlsClient(), url: tls.url("prod/policies"), tag: "1.0.0" }), digest);

        const again = await copyImage({ from: { ...fast, url: anon.url("dev/policies"), digest }, to });
        assert.equal(again.unchanged, true, "the tag already points at the digest");
        assert.deepEqual([again.present.length, again.copied.length, again.mounted.length, again.stats.to.blobsUploaded], [0, 0, 0, 0]);
    });

    it("a tag holding other content is not moved without force, and nothing is written", async () => {
        const other = await buildSample(changedSampleCopy());
        const otherDigest = (await pushImage({ ...fast, url: anon.url("dev/other"), tag: "1.0.0", manifest: other.manifest, config: other.config, layers: layersOf(other) })).digest;
        const to = { ...tlsClient(), url: tls.url("conflict/policies"), tag: "1.0.0" };
        await copyImage({ from: { ...fast, url: anon.url("dev/policies"), digest }, to });
        const before = tls.writes().length;
        const err = await copyImage({ from: { ...fast, url: anon.url("dev/other"), digest: otherDigest }, to }).catch((e: unknown) => e);
        assert.ok(err instanceof OciError && err.code === "tag-conflict" && err.reason === "tag-exists", String(err));
        assert.match(err.message, new RegExp(`already points at ${digest}, not at the copied ${otherDigest}`));
        assert.equal(tls.writes().length, before, "no write after the refusal");
        const forced = await copyImage({ from: { ...fast, url: anon.url("dev/other"), digest: otherDigest }, to: { ...to, force: true } });
        assert.equal(forced.digest, otherDigest);
        assert.equal(await resolveTag({ ...tlsClient(), url: tls.url("conflict/policies"), tag: "1.0.0" }), otherDigest);
    });

    it("the signature follows the bytes: copied beside the artifact, it verifies at the destination", async () => {
        const signed = await signArtifact({ ...fast, url: anon.url("dev/policies"), digest, key });
        const sigDigest = await resolveTag({ ...fast, url: anon.url("dev/policies"), tag: signed.signatureTag });
        assert.ok(sigDigest);
        // Before the copy there is nothing at the destination to verify.
        const beforeCopy = await verifyArtifact({ ...tlsClient(), url: tls.url("signed/policies"), digest, publicKeys: [key.publicKey] });
        assert.equal(beforeCopy.status, "unsigned", beforeCopy.message);

        await copyImage({ from: { ...fast, url: anon.url("dev/policies"), digest }, to: { ...tlsClient(), url: tls.url("signed/policies"), tag: "1.0.0" } });
        await copyImage({ from: { ...fast, url: anon.url("dev/policies"), digest: sigDigest }, to: { ...tlsClient(), url: tls.url("signed/policies"), tag: signed.signatureTag } });
        const verdict = await verifyArtifact({ ...tlsClient(), url: tls.url("signed/policies"), tag: "1.0.0", publicKeys: [key.publicKey] });
        assert.equal(verdict.status, "verified", verdict.message);
        assert.equal(verdict.digest, digest);
    });

    it("a digest the source does not hold is refused, and the destination tag is not created", async () => {
        const missing = `sha256:${"0".repeat(64)}`;
        const err = await copyImage({ from: { ...fast, url: anon.url("dev/policies"), digest: missing }, to: { ...fast, url: anon.url("prod/other"), tag: "1.0.0" } }).catch((e: unknown) => e);
        assert.ok(err instanceof OciError, String(err));
        assert.equal(err.code, "not-found");
        assert.equal(await resolveTag({ ...fast, url: anon.url("prod/policies"), tag: "1.0.0" }), digest, "the same lookup finds a tag that exists");
        assert.equal(await resolveTag({ ...fast, url: anon.url("prod/other"), tag: "1.0.0" }), undefined);
    });
});
