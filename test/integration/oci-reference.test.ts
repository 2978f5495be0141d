/**
 * The OCI client's pure parts: reference validation, WWW-Authenticate parsing, Retry-After,
 * credential sources and redaction. No registry needed.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";

import {
    loadDockerCredentials,
    OciError,
    parseCreds,
    parseOciUrl,
    parseRetryAfter,
    parseWwwAuthenticate,
    Redactor,
} from "../../lib/oci";

describe("parseOciUrl", () => {
    it("accepts host, host:port, IPv4, bracketed IPv6, nested repositories, tags and digests", () => {
        const r = parseOciUrl("oci://127.0.0.1:5000/policies/kyverno");
        assert.deepEqual(
            { host: r.host, hostname: r.hostname, port: r.port, repository: r.repository, loopback: r.loopback, url: r.url },
            { host: "127.0.0.1:5000", hostname: "127.0.0.1", port: 5000, repository: "policies/kyverno", loopback: true, url: "oci://127.0.0.1:5000/policies/kyverno" },
        );
        assert.equal(parseOciUrl("oci://ghcr.io/org/repo:v1.2.3").tag, "v1.2.3");
        assert.equal(parseOciUrl("oci://ghcr.io/org/repo").loopback, false);
        assert.equal(parseOciUrl("oci://localhost/a").loopback, true);
        const v6 = parseOciUrl("oci://[::1]:5000/a/b");
        assert.equal(v6.host, "[::1]:5000");
        assert.equal(v6.loopback, true);
        const d = `sha256:${"a".repeat(64)}`;
        assert.equal(parseOciUrl(`oci://r.example.com/a@${d}`).digest, d);
        assert.equal(parseOciUrl("oci://r.example.com/a_b/c__d/e-f/g.h").repository, "a_b/c__d/e-f/g.h");
    });

    const rejects: [string, RegExp][] = [
        ["http://127.0.0.1:5000/repo", /not an http\(s\):\/\/ URL/],
        ["https://ghcr.io/org/repo", /not an http\(s\):\/\/ URL/],
        ["ghcr.io/org/repo", /must start with oci:\/\//],
        ["OCI://ghcr.io/org/repo", /must start with oci:\/\//],
        ["oci://ghcr.io", /missing repository/],
        ["oci://ghcr.io/", /missing repository/],
        ["oci://ghcr.io/org/../etc", /path traversal/],
        ["oci://ghcr.io/../repo", /path traversal/],
        ["oci://ghcr.io/./repo", /path traversal/],
        ["oci://ghcr.io/org//repo", /empty path segment/],
        ["oci://ghcr.io/Org/repo", /lower case/],
        ["oci://ghcr.io/org/re%2e%2e", /%-escapes/],
        ["oci://ghcr.io/org\\repo", /backslashes/],
        ["oci://ghcr.io/org/repo?x=1", /query strings/],
        ["oci://user:pw@ghcr.io/org/repo", /credentials in the URL/],
        ["oci://bad_host/repo", /bad host/],
        ["oci://-bad.example/repo", /bad host/],
        ["oci://999.1.1.1/repo", /bad host/],
        ["oci://host:0/repo", /bad port/],
        ["oci://host:70000/repo", /bad port/],
        ["oci://host:abc/repo", /bad port|IPv6/],
        ["oci://::1/repo", /IPv6 addresses must be in brackets/],
        ["oci://host/repo:bad tag", /spaces/],
        ["oci://host/repo:-bad", /bad tag/],
        ["oci://host/repo@sha256:xyz", /bad digest/],
        ["oci://host/repo-/x", /bad repository segment/],
    ];
    for (const [input, why] of rejects) {
        it(`rejects ${input}`, () => {
            assert.throws(
                () => parseOciUrl(input),
                (e: unknown) => e instanceof OciError && e.code === "reference" && why.test(e.message),
            );
        });
    }
});

describe("parseWwwAuthenticate", () => {
    it("parses Distribution's Bearer challenge with a quoted, comma-holding scope", () => {
        const [c] = parseWwwAuthenticate(
            'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push",error="insufficient_scope"',
        );
        assert.equal(c!.scheme, "bearer");
        assert.deepEqual(c!.params, {
            realm: "https://auth.example.com/token",
            service: "registry.example.com",
            scope: "repository:a/b:pull,push",
            error: "insufficient_scope",
        });
    });
    it("parses Basic and several challenges in one header", () => {
        const cs = parseWwwAuthenticate('Basic realm="r1", Bearer realm="https://t/x",service=s');
        assert.deepEqual(
            cs.map((c) => [c.scheme, c.params.realm]),
            [
                ["basic", "r1"],
                ["bearer", "https://t/x"],
            ],
        );
        assert.equal(cs[1]!.params.service, "s");
    });
});

describe("parseRetryAfter", () => {
    it("reads delta seconds and HTTP dates", () => {
        assert.equal(parseRetryAfter("3"), 3000);
        const now = Date.parse("2024-01-01T00:00:00Z");
        assert.equal(parseRetryAfter("Mon, 01 Jan 2024 00:00:05 GMT", now), 5000);
        assert.equal(parseRetryAfter("Sun, 31 Dec 2023 00:00:00 GMT", now), 0);
        assert.equal(parseRetryAfter("soon"), undefined);
        assert.equal(parseRetryAfter(undefined), undefined);
    });
});

describe("credentials", () => {
    it("--creds splits at the first colon and never echoes a bad value", () => {
        assert.deepEqual(parseCreds("bot:pa:ss"), { username: "bot", password: "pa:ss" });
        assert.throws(
            () => parseCreds("secret-without-colon"),
            (e: unknown) => e instanceof OciError && !e.message.includes("secret-without-colon"),
        );
    });

    it("reads auths[host].auth and username/password from $DOCKER_CONFIG/config.json, normalising keys", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockercfg-"));
        try {
            fs.writeFileSync(
                path.join(dir, "config.json"),
                JSON.stringify({
                    auths: {
                        "127.0.0.1:5000": { auth: Buffer.from("alice:s3:cret").toString("base64") },
                        "https://registry.example.com/v1/": { username: "bob", password: "hunter2" },
                    },
                }),
            );
            const env = { DOCKER_CONFIG: dir };
            assert.deepEqual(loadDockerCredentials("127.0.0.1:5000", { env }), { username: "alice", password: "s3:cret" });
            assert.deepEqual(loadDockerCredentials("registry.example.com", { env }), { username: "bob", password: "hunter2" });
            assert.equal(loadDockerCredentials("127.0.0.1:5001", { env }), undefined);
            assert.equal(loadDockerCredentials("x", { env: { DOCKER_CONFIG: path.join(dir, "missing") } }), undefined);
            fs.writeFileSync(path.join(dir, "config.json"), "{ not json: hunter2");
            assert.throws(
                () => loadDockerCredentials("x", { env }),
                (e: unknown) => e instanceof OciError && e.code === "credentials" && !e.message.includes("hunter2"),
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("Redactor", () => {
    it("removes the password, user:pass, its base64 and any Authorization value", () => {
        const r = new Redactor().addCredentials({ username: "bot", password: "Pa55-word" });
        const b64 = Buffer.from("bot:Pa55-word").toString("base64");
        const out = r.redact(`pw=Pa55-word hdr=Basic ${b64} raw=${b64} bearer: Bearer eyJhbGciOiJSUzI1NiJ9.abc.def url=/t?access_token=xyz`);
        assert.ok(!out.includes("Pa55-word"));
        assert.ok(!out.includes(b64));
        assert.ok(!out.includes("eyJhbGciOiJSUzI1NiJ9"));
        assert.ok(!out.includes("xyz"));
        const e = r.redactError(new Error("failed with Pa55-word"));
        assert.ok(!e.message.includes("Pa55-word") && !String(e.stack).includes("Pa55-word"));
    });
});
