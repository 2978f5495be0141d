/**
 * A password pasted into an oci:// (or https://) URL must never come back in an error message: not
 * from the OCI reference parser (CLI --url), not from the stack config validation (registryUrl,
 * registryPullUrl, fluxInstallManifest, kyvernoRepository). Passwords may hold ":", "@" and "/".
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";

import { ConfigError, parseStackConfig } from "../../lib/config";
import { OciError, parseOciUrl } from "../../lib/oci";
import { redactUrlCredentials, suggestOciUrl } from "../../lib/oci/reference";

const PASSWORDS = ["s3cr3t-Pw", "p:a@ss-word", "pa/ss@w:rd", "@:@:@x"];

describe("hardening: credentials in URLs are refused without being echoed", () => {
    for (const pw of PASSWORDS) {
        const urls = [
            `oci://bob:${pw}@registry.example.com/team/policies`,
            `oci://bob:${pw}@registry.example.com`,
            `https://bob:${pw}@registry.example.com/team/policies`,
            `bob:${pw}@registry.example.com/team/policies`,
            `oci://bob:${pw}@registry.example.com/team/policies@sha256:${"a".repeat(64)}`,
        ];
        for (const url of urls) {
            it(`parseOciUrl(${JSON.stringify(url.replace(pw, "<pw>"))})`, () => {
                assert.throws(
                    () => parseOciUrl(url),
                    (e: unknown) => {
                        assert.ok(e instanceof OciError && e.code === "reference", String(e));
                        assert.ok(!e.message.includes(pw), `leaks the password: ${e.message}`);
                        assert.ok(!e.message.includes(`bob:${pw}`), e.message);
                        assert.match(e.message, /\*\*\*@/);
                        if (/credentials in the URL/.test(e.message)) assert.equal(e.reason, "credentials-in-url", "the caller names its own way to pass credentials");
                        return true;
                    },
                );
            });
        }

        it(`parseStackConfig hides ${JSON.stringify(pw.replace(/./g, "*"))} in URL-valued keys`, () => {
            const raw = {
                "p:clusterMode": "existing",
                "p:registryUrl": `https://bob:${pw}@registry.example.com/team/policies`,
                "p:registryPullUrl": `oci://bob:${pw}@registry.example.com/team/policies`,
                "p:fluxInstallManifest": `ftp://bob:${pw}@example.com/install.yaml`,
                "p:kyvernoRepository": `http://bob:${pw}@charts.example.com/`,
            };
            assert.throws(
                () => parseStackConfig(raw, { project: "p", stack: "s", projectDir: "/nonexistent" }),
                (e: unknown) => {
                    assert.ok(e instanceof ConfigError, String(e));
                    assert.ok(e.problems.length >= 4, e.message);
                    assert.ok(!e.message.includes(pw), `leaks the password: ${e.message}`);
                    for (const k of ["registryUrl", "registryPullUrl", "fluxInstallManifest", "kyvernoRepository"]) assert.match(e.message, new RegExp(`p:${k} = "[^"]*\\*\\*\\*@`));
                    return true;
                },
            );
        });
    }

    it("suggestOciUrl: the oci:// form of a bare or http(s) address, credentials hidden; nothing for other schemes", () => {
        assert.equal(suggestOciUrl("ghcr.io/acme/policies"), "oci://ghcr.io/acme/policies");
        assert.equal(suggestOciUrl("https://ghcr.io/acme/policies"), "oci://ghcr.io/acme/policies");
        assert.equal(suggestOciUrl("http://bob:p:a@ss@ghcr.io/acme/policies"), "oci://***@ghcr.io/acme/policies");
        assert.equal(suggestOciUrl("oci://ghcr.io/acme/policies"), undefined);
        assert.equal(suggestOciUrl("ftp://ghcr.io/acme/policies"), undefined);
    });

    it("leaves URLs without credentials (and digests) untouched", () => {
        const digest = `oci://ghcr.io/org/repo@sha256:${"b".repeat(64)}`;
        assert.equal(redactUrlCredentials(digest), digest);
        assert.equal(redactUrlCredentials("oci://127.0.0.1:5000/a/b:v1"), "oci://127.0.0.1:5000/a/b:v1");
        assert.equal(parseOciUrl(digest).digest, `sha256:${"b".repeat(64)}`);
    });
});
