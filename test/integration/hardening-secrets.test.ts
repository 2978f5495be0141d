/**
 * Every CLI and client error path we can provoke, with a registry password containing ':' and '@',
 * and a grep (test/support/secrets-scan.ts) of all stdout/stderr and every error's message, stack,
 * util.inspect and JSON for the password, base64(user:pass) and the dockerconfigjson: 0 hits.
 *
 * Hostile registries are simulated by a fault proxy that echoes the request's Authorization
 * header and the decoded user:password back in error bodies (JSON and plain text, including a
 * secret cut at the 200-character detail limit), a token realm that echoes them, and a redirect to
 * another host that must not receive the credentials.
 */
import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import * as util from "node:util";
import { after, before, describe, it } from "node:test";

import type { BuiltArtifact } from "../../lib/artifact";
import { dockerConfigJson } from "../../lib/dockerconfig";
import { loadDockerCredentials, parseCreds, pullImage, pushImage, RegistryClient, resolveTag, type PushImageOptions } from "../../lib/oci";
import { prepareArtifact, publishArtifact } from "../../lib/publish";
import { startFaultProxy, type FaultProxy, type FaultRequest } from "../support/fault-proxy";
import { formatTable } from "../support/fault-integrity";
import { repoRoot, samplePoliciesDir } from "../harness/paths";
import { buildSample, changedSampleCopy, layersOf, tempDir } from "../support/registry-artifact";
import { run } from "../harness/processes";
import { startRegistry, type RegistryHandle } from "../harness/registry";
import { formatHit, scanForSecrets, type SecretSpec } from "../support/secrets-scan";

const cliPath = path.join(repoRoot, "build", "cli", "artifact.js");
const USER = "policy-bot";
const PASSWORD = `s3:cr@t:p@ss-${crypto.randomBytes(6).toString("base64url")}`;
const WRONG = `${PASSWORD}:@wrong`;

describe("hardening: no secret in any output or error (password with ':' and '@')", () => {
    let tls: RegistryHandle;
    let token: RegistryHandle;
    let tlsProxy: FaultProxy;
    let sample: BuiltArtifact;
    let changed: BuiltArtifact;
    let changedDir: string;
    let other: http.Server;
    let otherPort = 0;
    let otherAuth: (string | undefined)[] = [];
    let realm: http.Server;
    let realmMode: "echo-500" | "not-json" = "echo-500";
    const tmp = tempDir("hardening-secrets");
    const dockerEmpty = path.join(tmp, "docker-empty");
    /** Every text any path produced: scanned at the end. */
    const texts: Record<string, string> = {};
    const table: string[][] = [];

    const decoded = (r: FaultRequest) => {
        const h = String(r.headers.authorization ?? "");
        return h.startsWith("Basic ") ? Buffer.from(h.slice(6), "base64").toString("utf8") : h;
    };
    const echoJson = (status: number) => (r: FaultRequest) => ({
        kind: "respond" as const,
        status,
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ errors: [{ code: "DENIED", message: `echo authorization=${String(r.headers.authorization)} decoded=${decoded(r)}` }] }),
    });
    const echoText = (status: number, pad = 0) => (r: FaultRequest) => ({
        kind: "respond" as const,
        status,
        headers: { "Content-Type": "text/plain" },
        // pad puts the secret across the client's 200-character detail limit.
        body: `${"x".repeat(pad)}${decoded(r)} ${String(r.headers.authorization)}`,
    });
    const authed = (r: FaultRequest) => r.headers.authorization !== undefined;
    /** Authenticated requests that carry an answer body to the client (HEAD answers have none). */
    const authedBody = (r: FaultRequest) => authed(r) && r.method !== "HEAD";

    function keep(name: string, e: unknown): string {
        const err = e as Error;
        texts[`${name}: message`] = String(err?.message);
        texts[`${name}: stack`] = String(err?.stack);
        texts[`${name}: String`] = String(e);
        texts[`${name}: inspect`] = util.inspect(e, { depth: 5 });
        texts[`${name}: JSON`] = JSON.stringify(e, err && typeof err === "object" ? Object.getOwnPropertyNames(err) : undefined);
        return String(err?.message);
    }

    async function cli(name: string, args: string[], env: NodeJS.ProcessEnv = {}) {
        const r = await run(process.execPath, [cliPath, ...args, "--verbose", "--stats"], { env: { ...process.env, DOCKER_CONFIG: dockerEmpty, ...env }, timeoutMs: 120_000 });
        texts[`${name}: stdout`] = r.stdout;
        texts[`${name}: stderr`] = r.stderr;
        return r;
    }

    before(async () => {
        fs.mkdirSync(dockerEmpty);
        tls = await startRegistry({ mode: "basic-tls", username: USER, password: PASSWORD });
        token = await startRegistry({ mode: "token", username: USER, password: PASSWORD });
        tlsProxy = await startFaultProxy({ upstream: tls.baseUrl, ca: fs.readFileSync(tls.caFile!) });
        sample = await buildSample();
        changedDir = changedSampleCopy();
        changed = await buildSample(changedDir);
        other = http.createServer((req, res) => {
            otherAuth.push(req.headers.authorization);
            res.writeHead(404, { "Content-Length": "0" });
            res.end();
        });
        await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
        otherPort = (other.address() as AddressInfo).port;
        realm = http.createServer((req, res) => {
            const auth = String(req.headers.authorization ?? "");
            const dec = auth.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString() : auth;
            if (realmMode === "echo-500") {
                res.writeHead(500, { "Content-Type": "text/plain" });
                res.end(`token service broken; you sent ${auth} (${dec})`);
            } else {
                res.writeHead(200, { "Content-Type": "text/html" });
                res.end(`<html>${dec}</html>`);
            }
        });
        await new Promise<void>((r) => realm.listen(0, "127.0.0.1", r));
    });
    after(async () => {
        if (table.length) console.log(`\nSecret-leak check: error paths provoked with a password containing ':' and '@'\n${formatTable(["#", "path", "client", "result"], table)}\n`);
        await tlsProxy?.stop();
        await tls?.stop();
        await token?.stop();
        await new Promise<void>((r) => (other ? other.close(() => r()) : r()));
        await new Promise<void>((r) => (realm ? realm.close(() => r()) : r()));
        for (const b of [sample, changed]) if (b) fs.rmSync(path.dirname(b.layer.path), { recursive: true, force: true });
        if (changedDir) fs.rmSync(changedDir, { recursive: true, force: true });
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    const good = `${USER}:${PASSWORD}`;
    const push = (url: string, extra: string[] = []) => ["push", "--path", samplePoliciesDir, "--url", url, "--tag", "1.0.0", ...extra];
    const realmChallenge = () => ({
        kind: "respond" as const,
        status: 401,
        headers: { "WWW-Authenticate": `Bearer realm="http://127.0.0.1:${(realm.address() as AddressInfo).port}/token",service="evil"` },
    });

    interface CliCase {
        name: string;
        args: () => string[];
        env?: () => NodeJS.ProcessEnv;
        proxy?: () => Parameters<FaultProxy["setRules"]>[0];
        setup?: () => unknown;
        exit: number;
        stderr: RegExp;
    }
    const cliCases: CliCase[] = [
        { name: "wrong password (htpasswd over TLS)", args: () => push(tls.url("s/wrong"), ["--creds", `${USER}:${WRONG}`, "--ca-file", tls.caFile!]), exit: 1, stderr: /authentication failed for registry .* rejected the credentials of user "policy-bot"/ },
        { name: "wrong password (token service)", args: () => push(token.url("s/wrong"), ["--creds", `${USER}:${WRONG}`]), exit: 1, stderr: /authentication failed: token service .* rejected the credentials for user "policy-bot" \(HTTP 401\)/ },
        { name: "registry echoes Authorization in a 500 JSON body", args: () => push(tlsProxy.url("s/e500"), ["--creds", good]), proxy: () => [{ when: authedBody, fault: echoJson(500) }], exit: 1, stderr: /answered HTTP 500 .*DENIED: echo authorization=Basic \*\*\* decoded=\*\*\*/ },
        { name: "registry echoes credentials in a 401 body", args: () => push(tlsProxy.url("s/e401"), ["--creds", good]), proxy: () => [{ when: authedBody, fault: echoJson(401) }], exit: 1, stderr: /authentication failed for registry .*decoded=\*\*\*/ },
        { name: "registry echoes credentials in a 403 body (pull)", args: () => ["pull", "--url", tlsProxy.url("s/e403"), "--tag", "1.0.0", "--output-dir", path.join(tmp, "o403"), "--creds", good], proxy: () => [{ when: authed, fault: echoJson(403) }], exit: 1, stderr: /access denied by registry/ },
        { name: "plain-text 404 body echo (diff)", args: () => ["diff", "--path", samplePoliciesDir, "--url", tlsProxy.url("s/e404"), "--tag", "1.0.0", "--creds", good], proxy: () => [{ when: authed, fault: echoText(404) }], exit: 1, stderr: /not found: get manifest 1\.0\.0/ },
        {
            name: "plain-text 400 echo with the secret cut at the 200-char limit",
            args: () => push(tlsProxy.url("s/e400"), ["--creds", good]),
            proxy: () => [{ when: authedBody, fault: echoText(400, 200 - USER.length - 1 - 10) }],
            exit: 1,
            stderr: /answered HTTP 400/,
        },
        { name: "token realm answers 500 echoing the Basic header", args: () => push(tlsProxy.url("s/realm"), ["--creds", good]), proxy: () => [{ fault: realmChallenge() }], setup: () => (realmMode = "echo-500"), exit: 1, stderr: /token service 127\.0\.0\.1:\d+ .* answered HTTP 500/ },
        { name: "token realm answers non-JSON echoing user:password", args: () => push(tlsProxy.url("s/realm2"), ["--creds", good]), proxy: () => [{ fault: realmChallenge() }], setup: () => (realmMode = "not-json"), exit: 1, stderr: /returned a body that is not JSON/ },
        {
            name: "blob GET redirected to another host (must not get the credentials)",
            args: () => ["pull", "--url", tlsProxy.url("s/redirect"), "--tag", "1.0.0", "--output-dir", path.join(tmp, "oredir"), "--creds", good],
            proxy: () => [{ method: "GET", kind: "blob", fault: { kind: "respond", status: 307, headers: { Location: `http://127.0.0.1:${otherPort}/blob` } } }],
            setup: async () => {
                await pushImage({ ...libOpts(tls.url("s/redirect")), caFile: tls.caFile });
            },
            exit: 1,
            stderr: /not found: get blob sha256:/,
        },
        { name: "connection refused", args: () => push("oci://127.0.0.1:1/s/refused", ["--creds", good]), exit: 1, stderr: /connection refused/ },
        { name: "TLS verification failure (no --ca-file)", args: () => push(tls.url("s/noca"), ["--creds", good]), exit: 1, stderr: /--ca-file/ },
        { name: "malformed --creds", args: () => push(tls.url("s/x"), ["--creds", `:${PASSWORD}`]), exit: 1, stderr: /invalid --creds: expected USER:PASSWORD \(value not shown\)/ },
        {
            name: "docker config that is not JSON (holds the password)",
            args: () => push(tls.url("s/x"), ["--ca-file", tls.caFile!]),
            env: () => {
                const d = path.join(tmp, "docker-bad-json");
                fs.mkdirSync(d, { recursive: true });
                fs.writeFileSync(path.join(d, "config.json"), `{"auths": {"${tls.host}": {"username": "${USER}", "password": "${PASSWORD}",}}`);
                return { DOCKER_CONFIG: d };
            },
            exit: 1,
            stderr: /docker config .* is not valid JSON$/m,
        },
        {
            name: "docker config auth that is not base64(user:pass)",
            args: () => push(tls.url("s/x"), ["--ca-file", tls.caFile!]),
            env: () => {
                const d = path.join(tmp, "docker-bad-auth");
                fs.mkdirSync(d, { recursive: true });
                fs.writeFileSync(path.join(d, "config.json"), JSON.stringify({ auths: { [tls.host]: { auth: Buffer.from(PASSWORD.replace(/:/g, "")).toString("base64") } } }));
                return { DOCKER_CONFIG: d };
            },
            exit: 1,
            stderr: /auth is not base64 of user:password/,
        },
        { name: "successful push, --verbose --stats", args: () => push(tls.url("s/ok"), ["--creds", good, "--ca-file", tls.caFile!]), exit: 0, stderr: /stats: requests=/ },
        { name: "tag conflict (same tag, other content)", args: () => ["push", "--path", changedDir, "--url", tls.url("s/ok"), "--tag", "1.0.0", "--creds", good, "--ca-file", tls.caFile!], exit: 1, stderr: /already points at sha256:.*pass --force/ },
        {
            name: "successful pull from the docker config",
            args: () => ["pull", "--url", tls.url("s/ok"), "--tag", "1.0.0", "--output-dir", path.join(tmp, "ook"), "--ca-file", tls.caFile!],
            env: () => {
                const d = path.join(tmp, "docker-good");
                fs.mkdirSync(d, { recursive: true });
                fs.writeFileSync(path.join(d, "config.json"), dockerConfigJson(tls.host, USER, PASSWORD));
                return { DOCKER_CONFIG: d };
            },
            exit: 0,
            stderr: /stats: requests=/,
        },
    ];

    for (const c of cliCases) {
        it(`CLI: ${c.name}`, async () => {
            tlsProxy.setRules(c.proxy?.() ?? []);
            await c.setup?.();
            otherAuth = [];
            try {
                const r = await cli(c.name, c.args(), c.env?.());
                assert.equal(r.code, c.exit, r.stderr);
                assert.match(r.stderr, c.stderr);
                if (c.exit !== 0) assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("error: ")).length, 1, r.stderr);
                // The secret must not appear even in part (e.g. cut by a length limit).
                for (const t of [r.stdout, r.stderr]) for (const part of [PASSWORD.slice(0, 8), PASSWORD.slice(4, 12), WRONG.slice(-10)]) assert.ok(!t.includes(part), `part of the password printed: ${part}`);
                if (c.name.startsWith("blob GET redirected")) {
                    assert.ok(otherAuth.length >= 1, "the redirect was followed");
                    assert.deepEqual(otherAuth.filter(Boolean), [], "credentials were sent to the other host");
                }
                table.push([String(table.length + 1), c.name, "CLI", `exit ${r.code}`]);
            } finally {
                tlsProxy.setRules([]);
            }
        });
    }

    const libOpts = (url: string, extra: Partial<PushImageOptions> = {}): PushImageOptions => ({
        url,
        tag: "1.0.0",
        manifest: sample.manifest,
        config: sample.config,
        layers: layersOf(sample),
        credentials: { username: USER, password: PASSWORD },
        retry: { attempts: 2, baseDelayMs: 10 },
        timeouts: { idleMs: 400 },
        ...extra,
    });
    const libCases: { name: string; rules?: () => Parameters<FaultProxy["setRules"]>[0]; call: () => Promise<unknown>; re: RegExp }[] = [
        { name: "pushImage: 500 JSON echo", rules: () => [{ when: authed, fault: echoJson(500) }], call: () => pushImage(libOpts(tlsProxy.url("l/a"))), re: /HTTP 500/ },
        { name: "pullImage: 401 JSON echo", rules: () => [{ when: authed, fault: echoJson(401) }], call: () => pullImage({ ...libOpts(tlsProxy.url("l/b")) }), re: /authentication failed/ },
        { name: "resolveTag: 403 JSON echo", rules: () => [{ when: authed, fault: echoJson(403) }], call: () => resolveTag({ ...libOpts(tlsProxy.url("l/c")) }), re: /access denied/ },
        {
            name: "listTags: plain-text 500 echo cut at the limit",
            rules: () => [{ when: authedBody, fault: echoText(500, 200 - USER.length - 1 - 10) }],
            call: async () => {
                const c = new RegistryClient(tlsProxy.url("l/d"), { credentials: { username: USER, password: PASSWORD }, retry: { attempts: 1 } });
                try {
                    return await c.listTags();
                } finally {
                    c.close();
                }
            },
            re: /HTTP 500/,
        },
        { name: "pushImage: stalled registry", rules: () => [{ when: authed, fault: { kind: "stall", ms: 3000 } }], call: () => pushImage(libOpts(tlsProxy.url("l/e"))), re: /stalled/ },
        { name: "pushImage: token realm echo", rules: () => [{ fault: realmChallenge() }], call: () => ((realmMode = "echo-500"), pushImage(libOpts(tlsProxy.url("l/f")))), re: /token service/ },
        { name: "pushImage: wrong password, token registry", call: () => pushImage(libOpts(token.url("l/g"), { credentials: { username: USER, password: WRONG } })), re: /rejected the credentials/ },
        { name: "parseCreds: no user", call: async () => parseCreds(`:${PASSWORD}`), re: /value not shown/ },
        {
            name: "loadDockerCredentials: broken JSON with the password",
            call: async () => {
                const f = path.join(tmp, "broken.json");
                fs.writeFileSync(f, `{"auths":{"h":{"auth":"${Buffer.from(good).toString("base64")}"`);
                return loadDockerCredentials("h", { configFile: f });
            },
            re: /is not valid JSON/,
        },
        {
            name: "publishArtifact (the Pulumi provider's push): wrong password",
            call: async () => {
                const prepared = await prepareArtifact(samplePoliciesDir, { source: "s", sourceRevision: "r", created: "2024-01-02T03:04:05Z" });
                return publishArtifact({
                    path: samplePoliciesDir,
                    url: token.url("l/publish"),
                    tag: "1.0.0",
                    digest: prepared.digest,
                    layerDigest: prepared.layerDigest,
                    source: "s",
                    sourceRevision: "r",
                    created: "2024-01-02T03:04:05Z",
                    insecure: true,
                    username: USER,
                    password: WRONG,
                    force: false,
                });
            },
            re: /rejected the credentials for user "policy-bot"/,
        },
    ];
    for (const c of libCases) {
        it(`client: ${c.name}`, async () => {
            tlsProxy.setRules(c.rules?.() ?? []);
            try {
                await assert.rejects(c.call(), (e: unknown) => {
                    const msg = keep(c.name, e);
                    assert.match(msg, c.re);
                    for (const part of [PASSWORD.slice(0, 8), PASSWORD.slice(4, 12), WRONG.slice(-10)]) assert.ok(!msg.includes(part), `part of the password in: ${msg}`);
                    return true;
                });
                table.push([String(table.length + 1), c.name, "library", "rejected"]);
            } finally {
                tlsProxy.setRules([]);
            }
        });
    }

    it("grep of every output and error above: 0 hits for the password, base64(user:pass), the dockerconfigjson", () => {
        assert.ok(Object.keys(texts).length >= 2 * cliCases.length + 5 * libCases.length - 2, `texts collected: ${Object.keys(texts).length}`);
        const specs: SecretSpec[] = [
            { username: USER, password: PASSWORD, dockerConfigJson: [dockerConfigJson(tls.host, USER, PASSWORD), dockerConfigJson(token.host, USER, PASSWORD)] },
            { username: USER, password: WRONG },
        ];
        const hits = specs.flatMap((s) => scanForSecrets({ texts }, s));
        table.push([String(table.length + 1), `grep over ${Object.keys(texts).length} texts`, "secrets-scan", `${hits.length} hits`]);
        assert.deepEqual(hits.map(formatHit), []);
    });
});
