/**
 * Push/pull against a real Distribution 2.8 registry with token auth (`auth.token`): a test token
 * service checks Basic credentials and signs RS256 JWTs with an x5c header. Counting proxy in front.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import type { BuiltArtifact } from "../../lib/artifact";
import { OciError, pullImage, pushImage, type PushImageOptions } from "../../lib/oci";
import { samplePoliciesDir } from "../harness/paths";
import { assertSameTree, buildSample, changedSampleCopy, layersOf, readOciLayout, systemUntar, tempDir } from "../support/registry-artifact";
import { startRegistry, type RegistryHandle } from "../harness/registry";
import { startCountingProxy, type CountingProxy } from "../harness/registry-proxy";
import { skopeoCopyToOciLayout, skopeoInspectRaw } from "../support/skopeo";

function assertNoSecret(text: string, username: string, password: string): void {
    assert.ok(!text.includes(password), `leaks the password: ${text}`);
    assert.ok(!text.includes(Buffer.from(`${username}:${password}`).toString("base64")), `leaks base64(user:pass): ${text}`);
}

describe("OCI push/pull: token auth (Bearer)", () => {
    let reg: RegistryHandle;
    let proxy: CountingProxy;
    let sample: BuiltArtifact;
    let changed: BuiltArtifact;
    let changedDir: string;
    const tmp = tempDir("oci-token");
    const opts = (url: string, b: BuiltArtifact, extra: Partial<PushImageOptions> = {}): PushImageOptions => ({
        url,
        tag: "v1",
        manifest: b.manifest,
        config: b.config,
        layers: layersOf(b),
        credentials: { username: reg.username!, password: reg.password! },
        retry: { baseDelayMs: 20 },
        ...extra,
    });

    before(async () => {
        reg = await startRegistry({ mode: "token" });
        proxy = await startCountingProxy({ upstream: reg.baseUrl });
        sample = await buildSample();
        changedDir = changedSampleCopy();
        changed = await buildSample(changedDir);
    });
    after(async () => {
        await proxy?.stop();
        await reg?.stop();
        for (const b of [sample, changed]) if (b) fs.rmSync(path.dirname(b.layer.path), { recursive: true, force: true });
        if (changedDir) fs.rmSync(changedDir, { recursive: true, force: true });
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("pushes with one token for the whole push; skopeo (creds) sees the Flux artifact", async () => {
        const issued = reg.issuer!.issued;
        const res = await pushImage(opts(reg.url("policies/sample"), sample));
        assert.equal(res.digest, sample.manifestDigest);
        assert.equal(res.stats.blobsUploaded, 2);
        assert.equal(res.stats.tokenRequests, 1, "one pull,push token covers HEADs, uploads and the manifest");
        assert.equal(reg.issuer!.issued - issued, 1);
        const { raw, json } = await skopeoInspectRaw(reg, "policies/sample", "v1");
        assert.equal(raw, sample.manifest.toString());
        assert.equal(json.config.mediaType, "application/vnd.cncf.flux.config.v1+json");
        assert.equal(json.layers[0].mediaType, "application/vnd.cncf.flux.content.v1.tar+gzip");
        assert.equal(json.annotations["org.opencontainers.image.created"], "2024-01-02T03:04:05Z");
        const layout = await skopeoCopyToOciLayout(reg, "policies/sample", "v1", path.join(tmp, "layout"));
        const out = path.join(tmp, "untar");
        systemUntar(readOciLayout(layout, "v1").blobPath(sample.layer.digest), out);
        assertSameTree(samplePoliciesDir, out);
    });

    it("re-push through the proxy: the challenge plus one HEAD, zero uploads", async () => {
        const url = proxy.url("policies/idem");
        await pushImage(opts(url, sample));
        proxy.reset();
        const res = await pushImage(opts(url, sample));
        assert.equal(res.unchanged, true);
        assert.equal(res.stats.blobsUploaded, 0);
        const authenticated = proxy.stats.entries.filter((e) => e.status !== 401);
        assert.deepEqual(
            authenticated.map((e) => `${e.method} ${e.kind} ${e.status}`),
            ["HEAD manifest 200"],
        );
        assert.ok(proxy.stats.requests <= 2, JSON.stringify(proxy.stats.entries));
        assert.equal(proxy.stats.bytesIn, 0);
    });

    it("pull round-trips with a pull token", async () => {
        const pulled = await pullImage({ url: reg.url("policies/sample"), tag: "v1", credentials: opts("", sample).credentials });
        try {
            assert.equal(pulled.manifestDigest, sample.manifestDigest);
            assert.ok(fs.readFileSync(pulled.layers[0]!.path).equals(fs.readFileSync(sample.layer.path)));
        } finally {
            pulled.cleanup();
        }
    });

    it("wrong password: the token service refuses; the error names registry and repository and leaks nothing", async () => {
        const wrong = `nope-${reg.password}`;
        await assert.rejects(pushImage(opts(reg.url("policies/sample"), sample, { credentials: { username: reg.username!, password: wrong } })), (e: unknown) => {
            assert.ok(e instanceof OciError && e.code === "auth", String(e));
            assert.ok(e.message.includes(reg.host) && e.message.includes("policies/sample"), e.message);
            assert.ok(e.reason === "credentials-rejected" && e.username === reg.username, `reason ${e.reason}, user ${e.username}`);
            assert.doesNotMatch(e.message, /--creds/, "the hint is the caller's");
            for (const t of [e.message, String(e.stack), String(e)]) assertNoSecret(t, reg.username!, wrong);
            return true;
        });
    });

    it("a token without push rights is reported as access denied, not as a bad password", async () => {
        const issuer = reg.issuer!;
        issuer.grant = (_repo, actions) => actions.filter((a) => a === "pull");
        try {
            await assert.rejects(pushImage(opts(reg.url("policies/readonly"), sample)), (e: unknown) => {
                assert.ok(e instanceof OciError && e.code === "forbidden", String(e));
                assert.ok(e.message.includes("policies/readonly") && e.message.includes(reg.host), e.message);
                return true;
            });
        } finally {
            issuer.grant = (_r, a) => a;
        }
    });

    it("re-authenticates once when the cached token expires mid-push", async () => {
        const issuer = reg.issuer!;
        // Distribution accepts a token until exp + 60 s of leeway: exp = now - 58 s makes a token that
        // dies about 2 s after issue, while expires_in=300 makes the client cache it.
        issuer.ttlSeconds = -58;
        issuer.reportedExpiresIn = 300;
        let delayed = false;
        proxy.reset();
        proxy.intercept = (r) => {
            if (r.method === "PUT" && r.kind === "manifest" && !delayed) {
                delayed = true;
                return { kind: "forward", delayMs: 3500 };
            }
            return undefined;
        };
        const issued = issuer.issued;
        try {
            const res = await pushImage(opts(proxy.url("policies/expiry"), changed));
            assert.equal(res.digest, changed.manifestDigest);
            assert.equal(issuer.issued - issued, 2, "first token, then exactly one re-auth");
            const puts = proxy.stats.entries.filter((e) => e.method === "PUT" && e.kind === "manifest").map((e) => e.status);
            assert.deepEqual(puts, [401, 201], "the delayed manifest PUT was refused once, then accepted");
        } finally {
            proxy.intercept = undefined;
            issuer.ttlSeconds = 300;
            issuer.reportedExpiresIn = undefined;
        }
        assert.equal((await skopeoInspectRaw(reg, "policies/expiry", "v1")).raw, changed.manifest.toString());
    });
});
