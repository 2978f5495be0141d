/**
 * Registry fault matrix: a fault-injecting proxy (test/support/fault-proxy.ts) in front of the real
 * Debian docker-registry (anonymous HTTP, and token auth), driving lib/oci pushImage (short client
 * timeouts) and the CLI (its defaults). For every fault the push either succeeds after retries or
 * fails with a clear error, and afterwards the registry serves the tag only with every blob present
 * (skopeo inspect --raw, then skopeo copy of the manifest and each blob it names, hashed). The
 * registry refusing a manifest with unknown blobs is not relied on: the proxy records the order of
 * requests, and no manifest PUT may start before every blob it names was confirmed to the client
 * (upload answered 201, or a HEAD answered 200). The matrix is printed at the end of the run.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import type { BuiltArtifact } from "../../lib/artifact";
import { OciError, pushImage, type PushImageOptions } from "../../lib/oci";
import { startFaultProxy, type FaultProxy, type FaultRule } from "../support/fault-proxy";
import { describeTag, formatTable, manifestOrderViolations, tagIntegrity, type TagState } from "../support/fault-integrity";
import { repoRoot, samplePoliciesDir } from "../harness/paths";
import { buildSample, layersOf, tempDir } from "../support/registry-artifact";
import { run } from "../harness/processes";
import { startRegistry, type RegistryHandle } from "../harness/registry";

const cliPath = path.join(repoRoot, "build", "cli", "artifact.js");
const FIXED = ["--source", "https://example.invalid/policy-stack.git", "--revision", "main@sha1:0123456789abcdef0123456789abcdef01234567", "--created", "2024-01-02T03:04:05Z"];

type Target = "anon" | "token";
interface Scenario {
    fault: string;
    target: Target;
    client: "pushImage" | "cli";
    rules: (ctx: { reg: RegistryHandle; repo: string }) => FaultRule[];
    expect: "success" | "error";
    /** Error code (pushImage) and message pattern (both clients). */
    code?: OciError["code"];
    message?: RegExp;
    /** Tag state required after the scenario; default: success → complete at our digest, error → absent. */
    tagAfter?: "absent" | "complete";
    /** pushImage option overrides. */
    opts?: Partial<PushImageOptions>;
    /** Runs before / after (issuer TTL tricks). */
    setup?: (reg: RegistryHandle) => void;
    teardown?: (reg: RegistryHandle) => void;
    /** Extra assertions on the outcome. */
    check?: (o: Outcome) => void;
}

interface Outcome {
    ok: boolean;
    error?: string;
    code?: string;
    retries?: number;
    tokenRequests?: number;
    fired: number;
    tag: TagState;
    entries: string[];
    /** Manifest PUTs the order check looked at. */
    manifestPuts: number;
}

const row = (s: Scenario, o: Outcome): string[] => [
    s.fault,
    s.target === "anon" ? "anonymous" : "token",
    s.client,
    String(o.fired),
    o.ok ? "succeeded" : `failed (${o.code ?? "exit 1"})`,
    o.retries === undefined ? "-" : String(o.retries),
    describeTag(o.tag),
    `${o.manifestPuts} after their blobs`,
    o.error ? o.error.replace(/sha256:[a-f0-9]{64}/g, "sha256:…").slice(0, 220) : "",
];

describe("hardening: registry fault matrix (pushImage and CLI)", () => {
    const regs: Partial<Record<Target, RegistryHandle>> = {};
    const proxies: Partial<Record<Target, FaultProxy>> = {};
    let sample: BuiltArtifact;
    const matrix: string[][] = [];
    const tmp = tempDir("hardening-faults");
    const dockerEmpty = path.join(tmp, "docker-empty");
    let n = 0;

    before(async () => {
        fs.mkdirSync(dockerEmpty);
        regs.anon = await startRegistry({ mode: "anonymous" });
        regs.token = await startRegistry({ mode: "token" });
        for (const t of ["anon", "token"] as const) proxies[t] = await startFaultProxy({ upstream: regs[t]!.baseUrl });
        sample = await buildSample();
        assert.ok(sample.layer.size > 2000, "fixture: the layer must be big enough to cut in the middle");
    });
    after(async () => {
        if (matrix.length > 0) {
            console.log(
                `\nRegistry fault matrix (${matrix.length} scenarios; pushImage: idle timeout 400 ms, 3 attempts; CLI: defaults, 30 s idle, 4 attempts)\n` +
                    formatTable(["fault", "registry", "client", "fired", "outcome", "retries", "tag afterwards", "manifest PUTs", "error"], matrix) +
                    "\n",
            );
        }
        for (const p of Object.values(proxies)) await p?.stop();
        for (const r of Object.values(regs)) await r?.stop();
        if (sample) fs.rmSync(path.dirname(sample.layer.path), { recursive: true, force: true });
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    const layerPut = (extra: Partial<FaultRule> = {}): Partial<FaultRule> => ({ method: "PUT", kind: "upload", minContentLength: 1000, ...extra });
    const bearerChallenge = (reg: RegistryHandle, repo: string) => ({
        "WWW-Authenticate": `Bearer realm="${reg.issuer!.realm}",service="policy-stack-test-registry",scope="repository:${repo}:pull,push",error="invalid_token"`,
        "Content-Type": "application/json",
    });

    const scenarios: Scenario[] = [
        {
            fault: "connection reset mid blob upload (once)",
            target: "anon",
            client: "pushImage",
            rules: () => [{ ...layerPut(), times: 1, fault: { kind: "reset", afterBytes: 2000 } }],
            expect: "success",
            check: (o) => assert.ok(o.retries! >= 1, "the upload was restarted"),
        },
        {
            fault: "connection reset mid blob upload (every attempt)",
            target: "anon",
            client: "pushImage",
            rules: () => [{ ...layerPut(), fault: { kind: "reset", afterBytes: 2000 } }],
            expect: "error",
            code: "network",
            message: /registry 127\.0\.0\.1:\d+ \(PUT \/v2\/faults\/\d+\/blobs\/uploads\/[^)]*\) failed after 1 attempt\(s\): .*(ECONNRESET|socket hang up|EPIPE).*; gave up after 3 upload attempts$/,
        },
        {
            fault: "connection reset mid chunked PATCH (once)",
            target: "anon",
            client: "pushImage",
            opts: { uploadMode: "chunked", chunkSize: 1024 },
            rules: () => [{ method: "PATCH", kind: "upload", skip: 1, times: 1, fault: { kind: "reset", afterBytes: 500 } }],
            expect: "success",
        },
        {
            fault: "500 on manifest PUT (once)",
            target: "anon",
            client: "pushImage",
            rules: () => [{ method: "PUT", kind: "manifest", times: 1, fault: { kind: "respond", status: 500 } }],
            expect: "success",
        },
        {
            fault: "500 on manifest PUT (always)",
            target: "anon",
            client: "pushImage",
            rules: () => [{ method: "PUT", kind: "manifest", fault: { kind: "respond", status: 500, body: '{"errors":[{"code":"UNKNOWN","message":"storage backend down"}]}' } }],
            expect: "error",
            code: "registry",
            message: /registry 127\.0\.0\.1:\d+ answered HTTP 500 while trying to push manifest v1 in repository faults\/\d+ \(UNKNOWN: storage backend down\)/,
        },
        {
            fault: "500 after the registry stored the manifest (once)",
            target: "anon",
            client: "pushImage",
            rules: () => [{ method: "PUT", kind: "manifest", times: 1, fault: { kind: "forward-then-respond", status: 500 } }],
            expect: "success",
        },
        {
            fault: "500 after the registry stored the manifest (always)",
            target: "anon",
            client: "pushImage",
            rules: () => [{ method: "PUT", kind: "manifest", fault: { kind: "forward-then-respond", status: 500 } }],
            expect: "error",
            code: "registry",
            message: /answered HTTP 500 while trying to push manifest v1/,
            // The registry did store it: the tag is served, and complete. The client cannot know.
            tagAfter: "complete",
        },
        {
            fault: "connection reset after the registry stored the manifest (once)",
            target: "anon",
            client: "pushImage",
            rules: () => [{ method: "PUT", kind: "manifest", times: 1, fault: { kind: "forward-then-reset" } }],
            expect: "success",
        },
        {
            fault: "429 + Retry-After: 1 on manifest PUT (once)",
            target: "anon",
            client: "pushImage",
            rules: () => [{ method: "PUT", kind: "manifest", times: 1, fault: { kind: "respond", status: 429, headers: { "Retry-After": "1" } } }],
            expect: "success",
            check: (o) => assert.ok(o.retries! >= 1),
        },
        {
            fault: "429 + Retry-After: 1 on every upload POST",
            target: "anon",
            client: "pushImage",
            rules: () => [{ method: "POST", kind: "upload", fault: { kind: "respond", status: 429, headers: { "Retry-After": "1" } } }],
            expect: "error",
            code: "registry",
            message: /answered HTTP 429 while trying to start a blob upload in repository faults\/\d+/,
            check: (o) => assert.equal(o.fired, 3, "3 attempts in all, not 3 upload sessions × 3 POSTs"),
        },
        {
            fault: "429 + Retry-After: 3600 (over the client's limit)",
            target: "anon",
            client: "pushImage",
            rules: () => [
                {
                    method: "POST",
                    kind: "upload",
                    fault: { kind: "respond", status: 429, headers: { "Retry-After": "3600" }, body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"rate limit"}]}' },
                },
            ],
            expect: "error",
            code: "registry",
            message: /answered HTTP 429 while trying to start a blob upload .*TOOMANYREQUESTS: rate limit/,
            check: (o) => assert.equal(o.fired, 1, "a Retry-After beyond maxRetryAfterMs fails at once: no retry, no hanging"),
        },
        {
            fault: "429 + Retry-After: 1 on the layer upload PUT (once)",
            target: "anon",
            client: "pushImage",
            rules: () => [{ ...layerPut(), times: 1, fault: { kind: "respond", status: 429, headers: { "Retry-After": "1" } } }],
            expect: "success",
            check: (o) => assert.equal(o.retries, 1),
        },
        {
            fault: "429 + Retry-After: 3600 on the layer upload PUT",
            target: "anon",
            client: "pushImage",
            rules: () => [{ ...layerPut(), fault: { kind: "respond", status: 429, headers: { "Retry-After": "3600" } } }],
            expect: "error",
            code: "registry",
            message: /answered HTTP 429 while trying to upload blob sha256:[a-f0-9]{64} in repository faults\/\d+$/,
            check: (o) => assert.equal(o.fired, 1, "the upload is not restarted against a long Retry-After"),
        },
        {
            fault: "stalled manifest PUT, never forwarded (once)",
            target: "anon",
            client: "pushImage",
            rules: () => [{ method: "PUT", kind: "manifest", times: 1, fault: { kind: "stall", ms: 5000 } }],
            expect: "success",
        },
        {
            fault: "stalled answer after the registry stored the layer (once)",
            target: "anon",
            client: "pushImage",
            rules: () => [{ ...layerPut(), times: 1, fault: { kind: "forward-then-stall", ms: 5000 } }],
            expect: "success",
        },
        {
            fault: "stalled manifest PUT (always)",
            target: "anon",
            client: "pushImage",
            rules: () => [{ method: "PUT", kind: "manifest", fault: { kind: "stall", ms: 5000 } }],
            expect: "error",
            code: "timeout",
            message: /registry 127\.0\.0\.1:\d+ \(PUT \/v2\/faults\/\d+\/manifests\/v1\): no data for 400 ms \(stalled connection\), after 3 attempt\(s\)/,
        },
        {
            fault: "stalled first request (tag HEAD), always",
            target: "anon",
            client: "pushImage",
            rules: () => [{ method: "HEAD", kind: "manifest", fault: { kind: "stall", ms: 5000 } }],
            expect: "error",
            code: "timeout",
            message: /\(HEAD \/v2\/faults\/\d+\/manifests\/v1\): no data for 400 ms \(stalled connection\)/,
            check: (o) => assert.deepEqual(o.entries.filter((e) => /^(PUT|POST|PATCH|DELETE) /.test(e)), [], "nothing written"),
        },
        {
            fault: "blob HEAD lies 200 (blobs never uploaded)",
            target: "anon",
            client: "pushImage",
            rules: () => [{ method: "HEAD", kind: "blob", fault: { kind: "respond", status: 200 } }],
            expect: "error",
            code: "registry",
            message: /answered HTTP 400 while trying to push manifest v1 .*MANIFEST_BLOB_UNKNOWN/,
        },
        {
            fault: "token expires mid-push (layer PUT delayed past the token's life)",
            target: "token",
            client: "pushImage",
            opts: { timeouts: { idleMs: 10_000 } },
            // Distribution accepts a token until exp + 60 s: exp = now - 58 s dies ~2 s after issue,
            // while expires_in 300 makes the client cache it.
            setup: (reg) => {
                reg.issuer!.ttlSeconds = -58;
                reg.issuer!.reportedExpiresIn = 300;
            },
            teardown: (reg) => {
                reg.issuer!.ttlSeconds = 300;
                reg.issuer!.reportedExpiresIn = undefined;
            },
            rules: () => [{ ...layerPut(), times: 1, fault: { kind: "forward", delayMs: 3500 } }],
            expect: "success",
            check: (o) => {
                assert.equal(o.tokenRequests, 2, "first token, then exactly one re-auth");
                assert.ok(o.entries.includes("PUT upload 401"), o.entries.join(", "));
            },
        },
        {
            fault: "401 forced once on the layer upload PUT",
            target: "token",
            client: "pushImage",
            rules: ({ reg, repo }) => [{ ...layerPut(), times: 1, fault: { kind: "respond", status: 401, headers: bearerChallenge(reg, repo), body: '{"errors":[{"code":"UNAUTHORIZED"}]}' } }],
            expect: "success",
            check: (o) => assert.equal(o.tokenRequests, 2),
        },
        {
            fault: "401 on every manifest PUT",
            target: "token",
            client: "pushImage",
            rules: ({ reg, repo }) => [{ method: "PUT", kind: "manifest", fault: { kind: "respond", status: 401, headers: bearerChallenge(reg, repo), body: '{"errors":[{"code":"UNAUTHORIZED"}]}' } }],
            expect: "error",
            code: "auth",
            message: /authentication failed for registry 127\.0\.0\.1:\d+, repository faults\/\d+ while trying to push manifest v1: the registry rejected the credentials of user "policy-bot"/,
        },
        // The CLI, with its default timeouts and retries.
        {
            fault: "connection reset mid blob upload (once)",
            target: "anon",
            client: "cli",
            rules: () => [{ ...layerPut(), times: 1, fault: { kind: "reset", afterBytes: 2000 } }],
            expect: "success",
        },
        {
            fault: "500 on manifest PUT (always)",
            target: "anon",
            client: "cli",
            rules: () => [{ method: "PUT", kind: "manifest", fault: { kind: "respond", status: 500 } }],
            expect: "error",
            message: /^error: registry 127\.0\.0\.1:\d+ answered HTTP 500 while trying to push manifest v1 in repository faults\/\d+$/,
        },
        {
            fault: "429 + Retry-After: 1 on upload POST (once)",
            target: "anon",
            client: "cli",
            rules: () => [{ method: "POST", kind: "upload", times: 1, fault: { kind: "respond", status: 429, headers: { "Retry-After": "1" } } }],
            expect: "success",
        },
        {
            fault: "stalled manifest PUT 35 s (once; CLI idle timeout 30 s)",
            target: "anon",
            client: "cli",
            rules: () => [{ method: "PUT", kind: "manifest", times: 1, fault: { kind: "stall", ms: 35_000 } }],
            expect: "success",
        },
        {
            fault: "token expires mid-push (layer PUT delayed past the token's life)",
            target: "token",
            client: "cli",
            setup: (reg) => {
                reg.issuer!.ttlSeconds = -58;
                reg.issuer!.reportedExpiresIn = 300;
            },
            teardown: (reg) => {
                reg.issuer!.ttlSeconds = 300;
                reg.issuer!.reportedExpiresIn = undefined;
            },
            rules: () => [{ ...layerPut(), times: 1, fault: { kind: "forward", delayMs: 3500 } }],
            expect: "success",
            check: (o) => assert.equal(o.tokenRequests, 2),
        },
        {
            fault: "401 on every manifest PUT",
            target: "token",
            client: "cli",
            rules: ({ reg, repo }) => [{ method: "PUT", kind: "manifest", fault: { kind: "respond", status: 401, headers: bearerChallenge(reg, repo) } }],
            expect: "error",
            message: /^error: authentication failed for registry 127\.0\.0\.1:\d+, repository faults\/\d+ while trying to push manifest v1: the registry rejected the credentials of user "policy-bot"; check --creds or the docker config$/,
        },
    ];

    it("order check on real traffic: a client that sends the manifest before its blobs is caught", async () => {
        // Raw HTTP through the proxy, not lib/oci: manifest first (the registry refuses it), then the
        // blobs, then the manifest again. Only the first PUT is out of order.
        const proxy = proxies.anon!;
        const repo = `faults/${++n}`;
        proxy.reset();
        proxy.setRules([]);
        const base = `http://${proxy.host}/v2/${repo}`;
        const putManifest = () =>
            fetch(`${base}/manifests/v1`, { method: "PUT", headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" }, body: new Uint8Array(sample.manifest) });
        const early = await putManifest();
        assert.equal(early.status, 400, "the registry refuses a manifest with unknown blobs");
        await early.arrayBuffer();
        for (const [digest, body] of [
            [sample.configDescriptor.digest, sample.config],
            [sample.layer.digest, fs.readFileSync(sample.layer.path)],
        ] as const) {
            const post = await fetch(`${base}/blobs/uploads/`, { method: "POST" });
            assert.equal(post.status, 202);
            await post.arrayBuffer();
            const loc = new URL(post.headers.get("location")!, `http://${proxy.host}`);
            loc.host = proxy.host; // the registry names itself; keep going through the proxy
            loc.searchParams.set("digest", digest);
            const put = await fetch(loc, { method: "PUT", headers: { "Content-Type": "application/octet-stream" }, body: new Uint8Array(body) });
            assert.equal(put.status, 201);
            await put.arrayBuffer();
        }
        const late = await putManifest();
        assert.equal(late.status, 201);
        await late.arrayBuffer();
        const problems = manifestOrderViolations(proxy.entries);
        const first = proxy.entries.find((e) => e.method === "PUT" && e.kind === "manifest")!;
        assert.equal(problems.length, 2, problems.join("\n"));
        for (const p of problems) assert.ok(p.startsWith(`manifest PUT /v2/${repo}/manifests/v1 (started at ${first.started}): blob sha256:`), p);
        assert.equal((await tagIntegrity(regs.anon!, repo, "v1")).state, "complete");

        // …and the skopeo check sees a blob that is wrong or gone (storage edited behind the registry).
        const layerData = path.join(regs.anon!.dataDir, "docker", "registry", "v2", "blobs", "sha256", sample.layer.digest.slice(7, 9), sample.layer.digest.slice(7), "data");
        const good = fs.readFileSync(layerData);
        const flipped = Buffer.from(good);
        flipped[flipped.length - 1] ^= 0xff;
        fs.writeFileSync(layerData, flipped);
        const corrupt = await tagIntegrity(regs.anon!, repo, "v1");
        fs.rmSync(layerData);
        const missing = await tagIntegrity(regs.anon!, repo, "v1");
        fs.writeFileSync(layerData, good);
        assert.equal(corrupt.state, "broken", describeTag(corrupt));
        assert.equal(missing.state, "broken", describeTag(missing));
        matrix.push(["manifest PUT before its blobs (raw HTTP client)", "anonymous", "raw", "-", "caught", "-", `layer edited on disk: ${corrupt.state}; removed: ${missing.state}`, `${problems.length} blobs not confirmed`, ""]);
    });

    for (const s of scenarios) {
        it(`${s.client}: ${s.fault} → ${s.expect}${s.target === "token" ? " (token auth)" : ""}`, async () => {
            const reg = regs[s.target]!;
            const proxy = proxies[s.target]!;
            const repo = `faults/${++n}`;
            const creds = reg.username ? { username: reg.username, password: reg.password! } : undefined;
            proxy.reset();
            proxy.setRules(s.rules({ reg, repo }));
            s.setup?.(reg);
            const issued = reg.issuer?.issued ?? 0;
            let o: Omit<Outcome, "tag" | "fired" | "entries" | "manifestPuts">;
            let digest = sample.manifestDigest;
            try {
                if (s.client === "pushImage") {
                    const opts: PushImageOptions = {
                        url: proxy.url(repo),
                        tag: "v1",
                        manifest: sample.manifest,
                        config: sample.config,
                        configDescriptor: sample.configDescriptor,
                        layers: layersOf(sample),
                        credentials: creds,
                        timeouts: { idleMs: 400, connectMs: 2000 },
                        retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100, maxRetryAfterMs: 2000 },
                        ...s.opts,
                    };
                    try {
                        const res = await pushImage(opts);
                        o = { ok: true, retries: res.stats.retries, tokenRequests: res.stats.tokenRequests };
                    } catch (e) {
                        assert.ok(e instanceof OciError, `not an OciError: ${String((e as Error)?.stack ?? e)}`);
                        o = { ok: false, error: e.message, code: e.code };
                    }
                } else {
                    const args = ["push", "--path", samplePoliciesDir, "--url", proxy.url(repo), "--tag", "v1", "--output", "json", "--stats", ...FIXED];
                    if (creds) args.push("--creds", `${creds.username}:${creds.password}`);
                    const r = await run(process.execPath, [cliPath, ...args], { env: { ...process.env, DOCKER_CONFIG: dockerEmpty }, timeoutMs: 120_000 });
                    const retries = /retries=(\d+)/.exec(r.stderr);
                    const tokens = /token_requests=(\d+)/.exec(r.stderr);
                    if (r.code === 0) {
                        digest = JSON.parse(r.stdout).digest;
                        o = { ok: true, retries: retries ? Number(retries[1]) : undefined, tokenRequests: tokens ? Number(tokens[1]) : undefined };
                    } else {
                        assert.equal(r.code, 1, `CLI exit code: ${r.stderr}`);
                        const lines = r.stderr.trim().split("\n");
                        assert.equal(lines.length, 1, `one error line: ${r.stderr}`);
                        o = { ok: false, error: lines[0] };
                    }
                    if (creds) for (const t of [r.stdout, r.stderr]) assert.ok(!t.includes(creds.password), "the CLI printed the password");
                }
            } finally {
                s.teardown?.(reg);
                proxy.setRules([]);
            }
            if (s.client === "pushImage" && s.target === "token" && o.ok) assert.equal(o.tokenRequests, reg.issuer!.issued - issued);
            const tag = await tagIntegrity(reg, repo, "v1");
            const manifestPuts = proxy.entries.filter((e) => e.method === "PUT" && e.kind === "manifest");
            const outcome: Outcome = {
                ...o,
                tag,
                fired: proxy.entries.filter((e) => e.injected).length,
                entries: proxy.entries.map((e) => `${e.method} ${e.kind} ${e.status ?? "-"}`),
                manifestPuts: manifestPuts.length,
            };
            matrix.push(row(s, outcome));

            // Blobs first, manifest last, whatever the registry would have accepted.
            assert.deepEqual(manifestOrderViolations(proxy.entries), [], `request order:\n${proxy.entries.map((e) => `${e.started}-${e.completed ?? "?"} ${e.method} ${e.path} ${e.status ?? "-"}`).join("\n")}`);
            if (o.ok || manifestPuts.length > 0) assert.ok(manifestPuts.every((e) => e.body && e.body.length > 0), "manifest bodies recorded");
            if (o.ok) assert.ok(manifestPuts.length >= 1, "a successful push sends its manifest (the order check is not vacuous)");

            assert.notEqual(tag.state, "broken", `the registry serves a tag with missing blobs: ${tag.problem}`);
            assert.ok(outcome.fired >= 1, "the fault was injected");
            if (s.expect === "success") {
                assert.ok(o.ok, `expected success, got: ${o.error}`);
                assert.equal(tag.state, "complete");
                assert.equal(tag.digest, digest, "the tag points at the pushed artifact");
            } else {
                assert.ok(!o.ok, "expected a failure");
                if (s.code) assert.equal(o.code, s.code, o.error);
                if (s.message) assert.match(o.error!, s.message);
                const want = s.tagAfter ?? "absent";
                assert.equal(tag.state, want, `tag after the failure: ${describeTag(tag)}`);
                if (want === "complete") assert.equal(tag.digest, digest);
            }
            s.check?.({ ...outcome });
        });
    }
});
