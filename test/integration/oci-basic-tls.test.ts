/**
 * Push/pull against a real Distribution 2.8 registry with htpasswd Basic auth over TLS, its
 * certificate signed by a CA made for the test. Checks with skopeo (--cert-dir, --creds).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import { extractLayer, type BuiltArtifact } from "../../lib/artifact";
import { OciError, pullImage, pushImage, resolveTag, type PushImageOptions } from "../../lib/oci";
import { samplePoliciesDir } from "../harness/paths";
import { assertSameTree, buildSample, layersOf, readOciLayout, systemUntar, tempDir } from "../support/registry-artifact";
import { startRegistry, type RegistryHandle } from "../harness/registry";
import { skopeoCopyToOciLayout, skopeoInspectRaw } from "../support/skopeo";

/** Asserts an error text carries no form of the secret pair. */
export function assertNoSecret(text: string, username: string, password: string): void {
    assert.ok(!text.includes(password), `leaks the password: ${text}`);
    for (const enc of ["base64", "base64url"] as const) {
        const b = Buffer.from(`${username}:${password}`).toString(enc);
        assert.ok(!text.includes(b), `leaks ${enc}(user:pass): ${text}`);
    }
}

describe("OCI push/pull: htpasswd Basic auth over TLS", () => {
    let reg: RegistryHandle;
    let sample: BuiltArtifact;
    const tmp = tempDir("oci-basic");
    const opts = (extra: Partial<PushImageOptions> = {}): PushImageOptions => ({
        url: reg.url("policies/sample"),
        tag: "v1",
        manifest: sample.manifest,
        config: sample.config,
        layers: layersOf(sample),
        credentials: { username: reg.username!, password: reg.password! },
        caFile: reg.caFile,
        retry: { baseDelayMs: 20 },
        ...extra,
    });

    before(async () => {
        reg = await startRegistry({ mode: "basic-tls" });
        sample = await buildSample();
    });
    after(async () => {
        await reg?.stop();
        if (sample) fs.rmSync(path.dirname(sample.layer.path), { recursive: true, force: true });
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("pushes with --creds and the CA file; skopeo (cert-dir + creds) sees the Flux artifact", async () => {
        const res = await pushImage(opts());
        assert.equal(res.digest, sample.manifestDigest);
        assert.equal(res.stats.blobsUploaded, 2);
        const { raw, json } = await skopeoInspectRaw(reg, "policies/sample", "v1");
        assert.equal(raw, sample.manifest.toString());
        assert.equal(json.config.mediaType, "application/vnd.cncf.flux.config.v1+json");
        assert.equal(json.layers[0].mediaType, "application/vnd.cncf.flux.content.v1.tar+gzip");
        assert.equal(json.annotations["org.opencontainers.image.revision"], "main@sha1:0123456789abcdef0123456789abcdef01234567");

        const layout = await skopeoCopyToOciLayout(reg, "policies/sample", "v1", path.join(tmp, "layout"));
        const out = path.join(tmp, "untar");
        systemUntar(readOciLayout(layout, "v1").blobPath(sample.layer.digest), out);
        assertSameTree(samplePoliciesDir, out);
    });

    it("re-push: no blob upload; one HEAD after the Basic challenge", async () => {
        const res = await pushImage(opts());
        assert.equal(res.unchanged, true);
        assert.equal(res.stats.blobsUploaded, 0);
        assert.equal(res.stats.bytesUploaded, 0);
        // 401 challenge (learns Basic) + authenticated HEAD.
        assert.deepEqual(res.stats.byMethod, { HEAD: 2 });
    });

    it("pull round-trips over TLS with credentials", async () => {
        const pulled = await pullImage({ url: reg.url("policies/sample"), tag: "v1", credentials: opts().credentials, caFile: reg.caFile });
        try {
            assert.equal(pulled.manifestDigest, sample.manifestDigest);
            const out = path.join(tmp, "pulled");
            await extractLayer(pulled.layers[0]!.path, out);
            assertSameTree(samplePoliciesDir, out);
        } finally {
            pulled.cleanup();
        }
    });

    it("wrong password: 401 error names registry, repository, action and user, leaks nothing, leaves the hint to the caller", async () => {
        const wrong = "Wr0ng-" + reg.password!;
        await assert.rejects(pushImage(opts({ credentials: { username: reg.username!, password: wrong }, tag: "v2" })), (e: unknown) => {
            assert.ok(e instanceof OciError && e.code === "auth" && e.status === 401, String(e));
            assert.ok(e.message.includes(reg.host), e.message);
            assert.ok(e.message.includes("policies/sample"), e.message);
            assert.equal(e.reason, "credentials-rejected");
            assert.deepEqual([e.host, e.repository, e.username], [reg.host, "policies/sample", reg.username]);
            assert.match(e.action ?? "", /^look up manifest v2$/);
            assert.doesNotMatch(e.message, /--creds|--insecure|--ca-file|policy-stack:/, "no front end's wording in the library");
            for (const text of [e.message, String(e.stack), JSON.stringify(e), String(e)]) assertNoSecret(text, reg.username!, wrong);
            return true;
        });
        assert.equal(await resolveTag({ url: reg.url("policies/sample"), tag: "v2", credentials: opts().credentials, caFile: reg.caFile }), undefined);
    });

    it("no credentials: says authentication is required, with the reason for the caller's hint", async () => {
        await assert.rejects(
            resolveTag({ url: reg.url("policies/sample"), tag: "v1", caFile: reg.caFile }),
            (e: unknown) => e instanceof OciError && e.code === "auth" && /authentication required/.test(e.message) && e.reason === "credentials-required" && !/--creds/.test(e.message),
        );
    });

    it("TLS without the CA: verification fails with a hint, and plain HTTP is never tried", async () => {
        await assert.rejects(resolveTag({ url: reg.url("policies/sample"), tag: "v1", credentials: opts().credentials }), (e: unknown) => {
            assert.ok(e instanceof OciError && e.code === "tls" && e.reason === "tls-failed", String(e));
            assert.doesNotMatch(e.message, /--ca-file/);
            return true;
        });
        // Explicit insecure means plain HTTP, which this TLS-only registry refuses (HEAD and GET fail differently).
        await assert.rejects(
            resolveTag({ url: reg.url("policies/sample"), tag: "v1", credentials: opts().credentials, insecure: true }),
            (e: unknown) => e instanceof OciError && e.code === "tls" && /requires TLS/.test(e.message) && e.reason === "server-requires-tls",
        );
        await assert.rejects(
            pullImage({ url: reg.url("policies/sample"), tag: "v1", credentials: opts().credentials, insecure: true }),
            (e: unknown) => e instanceof OciError && e.code === "tls" && /requires TLS/.test(e.message) && e.reason === "server-requires-tls",
        );
    });
});
