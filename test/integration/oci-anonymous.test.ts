/**
 * Push/pull against a real Distribution 2.8 registry over plain HTTP without auth, checked with
 * skopeo and through a counting proxy; fault injection through the same proxy.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import { extractLayer, type BuiltArtifact } from "../../lib/artifact";
import {
    fetchBlob,
    fetchManifest,
    OciError,
    pullImage,
    pushBlob,
    pushImage,
    pushManifest,
    RegistryClient,
    resolveTag,
    sha256Digest,
    type PushImageOptions,
} from "../../lib/oci";
import { samplePoliciesDir } from "../harness/paths";
import {
    assertSameTree,
    buildSample,
    changedSampleCopy,
    layersOf,
    readOciLayout,
    systemUntar,
    tempDir,
} from "../support/registry-artifact";
import { freePort } from "../harness/processes";
import { startRegistry, type RegistryHandle } from "../harness/registry";
import { startCountingProxy, type CountingProxy } from "../harness/registry-proxy";
import { skopeoCopyToOciLayout, skopeoInspectRaw } from "../support/skopeo";

describe("OCI push/pull: anonymous registry over HTTP", () => {
    let reg: RegistryHandle;
    let proxy: CountingProxy;
    let sample: BuiltArtifact;
    let changed: BuiltArtifact;
    let changedDir: string;
    const tmp = tempDir("oci-anon");

    const pushOpts = (url: string, b: BuiltArtifact, extra: Partial<PushImageOptions> = {}): PushImageOptions => ({
        url,
        tag: "v1",
        manifest: b.manifest,
        config: b.config,
        configDescriptor: b.configDescriptor,
        layers: layersOf(b),
        retry: { baseDelayMs: 20, maxDelayMs: 200 },
        ...extra,
    });

    before(async () => {
        reg = await startRegistry({ mode: "anonymous" });
        proxy = await startCountingProxy({ upstream: reg.baseUrl });
        sample = await buildSample();
        changedDir = changedSampleCopy();
        changed = await buildSample(changedDir);
        assert.notEqual(sample.manifestDigest, changed.manifestDigest, "fixture: the changed copy must build a different artifact");
    });
    after(async () => {
        await proxy?.stop();
        await reg?.stop();
        for (const b of [sample, changed]) if (b) fs.rmSync(path.dirname(b.layer.path), { recursive: true, force: true });
        if (changedDir) fs.rmSync(changedDir, { recursive: true, force: true });
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("pushes the sample; skopeo sees Flux media types, annotations and the exact manifest bytes", async () => {
        const res = await pushImage(pushOpts(reg.url("policies/sample"), sample));
        assert.equal(res.digest, sample.manifestDigest);
        assert.equal(res.unchanged, false);
        assert.deepEqual(new Set(res.uploaded), new Set([sample.configDescriptor.digest, sample.layer.digest]));
        assert.equal(res.stats.blobsUploaded, 2);

        const { raw, json } = await skopeoInspectRaw(reg, "policies/sample", "v1");
        assert.equal(raw, sample.manifest.toString("utf8"), "registry must store the manifest byte for byte");
        assert.equal(json.mediaType, "application/vnd.oci.image.manifest.v1+json");
        assert.equal(json.config.mediaType, "application/vnd.cncf.flux.config.v1+json");
        assert.equal(json.layers.length, 1);
        assert.equal(json.layers[0].mediaType, "application/vnd.cncf.flux.content.v1.tar+gzip");
        assert.equal(json.layers[0].digest, sample.layer.digest);
        assert.equal(json.annotations["org.opencontainers.image.source"], "https://example.invalid/policy-stack.git");
        assert.equal(json.annotations["org.opencontainers.image.revision"], "main@sha1:0123456789abcdef0123456789abcdef01234567");
        assert.equal(json.annotations["org.opencontainers.image.created"], "2024-01-02T03:04:05Z");
        assert.equal(await resolveTag({ url: reg.url("policies/sample"), tag: "v1" }), sample.manifestDigest);
        assert.equal(await resolveTag({ url: reg.url("policies/sample"), tag: "nope" }), undefined);
    });

    it("skopeo copy to an OCI layout, then system tar: files equal the source byte for byte", async () => {
        const layout = await skopeoCopyToOciLayout(reg, "policies/sample", "v1", path.join(tmp, "layout"));
        const { manifest, manifestDigest, blobPath } = readOciLayout(layout, "v1");
        assert.equal(manifestDigest, sample.manifestDigest);
        const out = path.join(tmp, "skopeo-untar");
        systemUntar(blobPath(manifest.layers[0].digest), out);
        assertSameTree(samplePoliciesDir, out);
    });

    it("re-push of the same artifact: one HEAD through the proxy, zero uploads", async () => {
        const url = proxy.url("policies/idem");
        await pushImage(pushOpts(url, sample));
        const first = { ...proxy.stats.byRoute };
        const order = proxy.stats.entries.map((e) => `${e.method} ${e.kind}`);
        assert.equal(order[order.length - 1], "PUT manifest", `manifest must be PUT last: ${order.join(", ")}`);
        assert.equal(order.indexOf("PUT manifest"), order.length - 1);
        assert.ok((first["PUT upload"] ?? 0) >= 2 && first["PUT manifest"] === 1, `first push uploads: ${JSON.stringify(first)}`);
        proxy.reset();
        const res = await pushImage(pushOpts(url, sample));
        assert.equal(res.unchanged, true);
        assert.deepEqual(res.uploaded, []);
        assert.equal(res.stats.blobsUploaded, 0);
        assert.equal(res.stats.bytesUploaded, 0);
        assert.equal(res.stats.requests, 1);
        assert.equal(proxy.stats.requests, 1, `requests: ${JSON.stringify(proxy.stats.entries)}`);
        assert.deepEqual(proxy.stats.byRoute, { "HEAD manifest": 1 });
        assert.equal(proxy.stats.bytesIn, 0);
    });

    it("refuses to move a tag to different content without force, moves it with force", async () => {
        const url = reg.url("policies/sample");
        await assert.rejects(pushImage(pushOpts(url, changed)), (e: unknown) => {
            assert.ok(e instanceof OciError, String(e));
            assert.equal(e.code, "tag-conflict");
            assert.match(e.message, /tag "v1"/);
            assert.ok(e.message.includes(sample.manifestDigest) && e.message.includes(changed.manifestDigest), e.message);
            assert.equal(e.reason, "tag-exists");
            assert.doesNotMatch(e.message, /--force/, "the hint is the caller's");
            return true;
        });
        assert.equal((await skopeoInspectRaw(reg, "policies/sample", "v1")).raw, sample.manifest.toString());
        const res = await pushImage(pushOpts(url, changed, { force: true }));
        assert.equal(res.previousDigest, sample.manifestDigest);
        assert.equal(res.digest, changed.manifestDigest);
        // The config blob is shared only if created/diff_id match; the layer surely changed.
        assert.ok(res.uploaded.includes(changed.layer.digest));
        assert.equal((await skopeoInspectRaw(reg, "policies/sample", "v1")).raw, changed.manifest.toString());
        // Put the sample back for the tests below.
        await pushImage(pushOpts(url, sample, { force: true }));
    });

    it("pull round-trips: digests verified, layer extracts to the source tree", async () => {
        const pulled = await pullImage({ url: reg.url("policies/sample"), tag: "v1" });
        try {
            assert.equal(pulled.manifestDigest, sample.manifestDigest);
            assert.ok(pulled.manifest.equals(sample.manifest));
            assert.ok(pulled.config.equals(sample.config));
            assert.equal(pulled.annotations["org.opencontainers.image.source"], "https://example.invalid/policy-stack.git");
            assert.equal(pulled.layers.length, 1);
            const out = path.join(tmp, "pulled");
            await extractLayer(pulled.layers[0]!.path, out);
            assertSameTree(samplePoliciesDir, out);
            const byDigest = await pullImage({ url: reg.url("policies/sample"), digest: sample.manifestDigest });
            assert.equal(byDigest.manifestDigest, sample.manifestDigest);
            byDigest.cleanup();
        } finally {
            pulled.cleanup();
        }
        assert.equal(fs.existsSync(pulled.dir), false, "cleanup() removes the temp dir");
    });

    it("pull detects a blob whose stored bytes no longer match its digest", async () => {
        await pushImage(pushOpts(reg.url("policies/corrupt"), changed));
        const hex = changed.layer.digest.slice("sha256:".length);
        const data = path.join(reg.dataDir, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
        const bytes = fs.readFileSync(data);
        bytes[bytes.length - 1] ^= 0xff; // same length, different content
        fs.writeFileSync(data, bytes);
        try {
            await assert.rejects(pullImage({ url: reg.url("policies/corrupt"), tag: "v1" }), (e: unknown) => {
                assert.ok(e instanceof OciError && e.code === "digest-mismatch", String(e));
                assert.ok(e.message.includes(changed.layer.digest));
                return true;
            });
        } finally {
            bytes[bytes.length - 1] ^= 0xff;
            fs.writeFileSync(data, bytes);
        }
    });

    it("falls back to chunked PATCH uploads when the registry refuses a monolithic PUT", async () => {
        proxy.reset();
        proxy.intercept = (r) =>
            r.method === "PUT" && r.kind === "upload" && Number(r.headers["content-length"] ?? 0) > 0
                ? { kind: "respond", status: 413, body: '{"errors":[{"code":"SIZE_INVALID","message":"monolithic upload refused"}]}' }
                : undefined;
        try {
            const res = await pushImage(pushOpts(proxy.url("policies/chunked"), sample));
            assert.equal(res.digest, sample.manifestDigest);
            assert.equal(res.stats.blobsUploaded, 2);
            assert.ok((proxy.stats.byRoute["PATCH upload"] ?? 0) >= 2, JSON.stringify(proxy.stats.byRoute));
        } finally {
            proxy.intercept = undefined;
        }
        assert.equal((await skopeoInspectRaw(reg, "policies/chunked", "v1")).raw, sample.manifest.toString());
        const out = path.join(tmp, "chunked-copy");
        const layout = await skopeoCopyToOciLayout(reg, "policies/chunked", "v1", path.join(tmp, "layout-chunked"));
        systemUntar(readOciLayout(layout, "v1").blobPath(sample.layer.digest), out);
        assertSameTree(samplePoliciesDir, out);
    });

    it("chunked mode with small chunks: many PATCHes with Content-Range, same stored blob", async () => {
        proxy.reset();
        const res = await pushImage(pushOpts(proxy.url("policies/small-chunks"), sample, { uploadMode: "chunked", chunkSize: 1000 }));
        assert.equal(res.digest, sample.manifestDigest);
        const expected = Math.ceil(sample.layer.size / 1000) + Math.ceil(sample.config.length / 1000);
        assert.equal(proxy.stats.byRoute["PATCH upload"], expected);
        const pulled = await pullImage({ url: reg.url("policies/small-chunks"), tag: "v1" });
        assert.ok(fs.readFileSync(pulled.layers[0]!.path).equals(fs.readFileSync(sample.layer.path)));
        pulled.cleanup();
    });

    it("retries 503 and 429 (honouring Retry-After) and restarts an upload whose connection was reset", async () => {
        proxy.reset();
        const seen = { manifestPut: 0, headBlob: 0, uploadPut: 0 };
        proxy.intercept = (r) => {
            if (r.method === "PUT" && r.kind === "manifest" && seen.manifestPut++ === 0) return { kind: "respond", status: 503 };
            if (r.method === "HEAD" && r.kind === "blob" && seen.headBlob++ === 0) return { kind: "respond", status: 429, headers: { "Retry-After": "1" } };
            if (r.method === "PUT" && r.kind === "upload" && seen.uploadPut++ === 0) return { kind: "reset", afterBytes: 100 };
            return undefined;
        };
        const started = Date.now();
        try {
            const res = await pushImage(pushOpts(proxy.url("policies/flaky"), sample));
            assert.equal(res.digest, sample.manifestDigest);
            assert.ok(res.stats.retries >= 3, `retries: ${res.stats.retries}`);
            assert.ok(Date.now() - started >= 950, "Retry-After: 1 must be waited for");
        } finally {
            proxy.intercept = undefined;
        }
        assert.equal(await resolveTag({ url: reg.url("policies/flaky"), tag: "v1" }), sample.manifestDigest);
        const pulled = await pullImage({ url: reg.url("policies/flaky"), tag: "v1" });
        pulled.cleanup();
    });

    it("gives up after bounded attempts on persistent 500s, naming host and repository", async () => {
        proxy.reset();
        proxy.intercept = (r) => (r.kind === "manifest" ? { kind: "respond", status: 500 } : undefined);
        try {
            await assert.rejects(pushImage(pushOpts(proxy.url("policies/down"), sample, { retry: { attempts: 3, baseDelayMs: 10 } })), (e: unknown) => {
                assert.ok(e instanceof OciError && e.code === "registry" && e.status === 500, String(e));
                assert.ok(e.message.includes(proxy.host) && e.message.includes("policies/down"), e.message);
                return true;
            });
            assert.equal(proxy.stats.byRoute["HEAD manifest"], 3);
        } finally {
            proxy.intercept = undefined;
        }
    });

    it("aborts a stalled response after the idle timeout", async () => {
        proxy.reset();
        proxy.intercept = (r) => (r.kind === "manifest" ? { kind: "stall", ms: 10_000 } : undefined);
        const started = Date.now();
        try {
            await assert.rejects(
                resolveTag({ url: proxy.url("policies/stall"), tag: "v1", timeouts: { idleMs: 300 }, retry: { attempts: 2, baseDelayMs: 10 } }),
                (e: unknown) => e instanceof OciError && e.code === "timeout" && /stalled/.test(e.message),
            );
            assert.ok(Date.now() - started < 5_000, "must not wait for the stall to end");
            assert.equal(proxy.stats.requests, 2, "one retry after the first timeout");
        } finally {
            proxy.intercept = undefined;
        }
    });

    it("listTags returns the pushed tags, and none for an absent repository", async () => {
        await pushImage(pushOpts(reg.url("policies/tags"), sample, { tag: "1.0.0" }));
        await pushImage(pushOpts(reg.url("policies/tags"), sample, { tag: "1.1.0" }));
        const client = new RegistryClient(reg.url("policies/tags"));
        const absent = new RegistryClient(reg.url("policies/never-pushed"));
        try {
            assert.deepEqual((await client.listTags()).sort(), ["1.0.0", "1.1.0"]);
            assert.deepEqual(await absent.listTags(), []);
        } finally {
            client.close();
            absent.close();
        }
    });

    it("single steps: pushBlob skips what is there, pushManifest tags a manifest of its blobs, fetchManifest/fetchBlob read them back", async () => {
        const url = reg.url("policies/steps");
        const payload = Buffer.from('{"critical":{"type":"example"}}');
        const config = Buffer.from("{}");
        const first = await pushBlob({ url, blob: { data: payload } });
        assert.deepEqual([first.digest, first.size, first.uploaded], [sha256Digest(payload), payload.length, true]);
        assert.equal((await pushBlob({ url, blob: { data: payload } })).uploaded, false, "the second push finds the blob");
        await pushBlob({ url, blob: { data: config } });
        const layerFile = path.join(tmp, "step-layer");
        fs.writeFileSync(layerFile, payload);
        assert.equal((await pushBlob({ url, blob: { path: layerFile, digest: first.digest, size: payload.length } })).uploaded, false);

        const manifest = Buffer.from(
            JSON.stringify({
                schemaVersion: 2,
                mediaType: "application/vnd.oci.image.manifest.v1+json",
                config: { mediaType: "application/vnd.oci.empty.v1+json", digest: sha256Digest(config), size: config.length },
                layers: [{ mediaType: "application/vnd.example.payload.v1+json", digest: first.digest, size: payload.length }],
            }),
        );
        const tag = `${sample.manifestDigest.replace(":", "-")}.sig`;
        const pushed = await pushManifest({ url, reference: tag, manifest });
        assert.equal(pushed.digest, sha256Digest(manifest));
        const fetched = await fetchManifest({ url, reference: tag });
        assert.ok(fetched && fetched.body.equals(manifest) && fetched.digest === pushed.digest, "the manifest reads back byte for byte");
        assert.equal((await fetchManifest({ url, reference: pushed.digest }))?.digest, pushed.digest, "by digest too");
        assert.equal(await fetchManifest({ url, reference: "absent" }), undefined, "an absent tag is undefined, not an error");
        assert.ok((await fetchBlob({ url, digest: first.digest, size: payload.length })).equals(payload));
        await assert.rejects(fetchBlob({ url, digest: sha256Digest("never pushed") }), (e: unknown) => e instanceof OciError && e.code === "not-found");
        await assert.rejects(pushManifest({ url, reference: "bad tag", manifest }), (e: unknown) => e instanceof OciError && e.code === "reference");
    });

    it("clear errors for a missing tag and an unreachable registry", async () => {
        await assert.rejects(pullImage({ url: reg.url("policies/sample"), tag: "missing" }), (e: unknown) => {
            assert.ok(e instanceof OciError && e.code === "not-found", String(e));
            assert.ok(e.message.includes(reg.host) && e.message.includes("policies/sample") && e.message.includes("missing"), e.message);
            return true;
        });
        const port = await freePort();
        await assert.rejects(
            resolveTag({ url: `oci://127.0.0.1:${port}/x`, tag: "v1", insecure: true }),
            (e: unknown) => e instanceof OciError && e.code === "network" && /connection refused/.test(e.message),
        );
    });
});
