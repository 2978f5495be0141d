/**
 * test/support/secrets-scan.ts finds a registry password in every form it leaks in, ignores Pulumi
 * ciphertext, and never prints the secret in its own report.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";

import { dockerConfigJson } from "../../lib/dockerconfig";
import { assertNoSecrets, base64Cores, formatHit, scanForSecrets, scanText, secretNeedles, stripCiphertext, type SecretSpec } from "../support/secrets-scan";

const USER = "policy-bot";
const PW = 'p:a@ss"w/rd-Zq8%x';
const SPEC_BASE: SecretSpec = { username: USER, password: PW };

function noSecretIn(text: string): void {
    for (const n of secretNeedles(SPEC_BASE)) assert.ok(!text.includes(n.value), `report leaks ${n.label}: ${text}`);
    assert.ok(!text.includes(PW.slice(0, 8)) && !text.includes(PW.slice(-8)), `report leaks part of the password: ${text}`);
}

describe("hardening: secrets-scan", () => {
    const dcj = dockerConfigJson("registry.example.com:5000", USER, PW);
    const spec: SecretSpec = { ...SPEC_BASE, dockerConfigJson: dcj };

    it("the fixture docker config holds the password the way the pull Secret does", () => {
        const parsed = JSON.parse(dcj) as { auths: Record<string, { auth: string }> };
        assert.equal(Buffer.from(parsed.auths["registry.example.com:5000"]!.auth, "base64").toString(), `${USER}:${PW}`);
    });

    const leaks: [string, string, RegExp][] = [
        ["plain password in a log line", `error: login ${PW} refused`, /^password$/],
        ["user:password", `creds=${USER}:${PW}\n`, /^user:password$/],
        ["Basic header", `Authorization: Basic ${Buffer.from(`${USER}:${PW}`).toString("base64")}`, /^base64\(user:password\)$/],
        ["base64url", `x=${Buffer.from(`${USER}:${PW}`).toString("base64url")}`, /^base64(url)?\(user:password\)( unpadded)?$/],
        ["JSON-escaped password", JSON.stringify({ password: PW }), /^password \(JSON-escaped\)$/],
        ["URL-encoded password", `https://registry/?password=${encodeURIComponent(PW)}`, /^password \(URL-encoded\)$/],
        ["the dockerconfigjson verbatim", `data: ${dcj}`, /^dockerconfigjson$/],
        ["a Secret's data (base64 of the dockerconfigjson)", `data:\n  .dockerconfigjson: ${Buffer.from(dcj).toString("base64")}\n`, /^base64\(dockerconfigjson\)$/],
        [
            "base64 of a differently formatted docker config (password at any alignment)",
            `blob: ${Buffer.from(JSON.stringify({ auths: { other: { username: USER, password: PW } } }, null, 2)).toString("base64")}`,
            /inside base64 text$/,
        ],
        ["password at offset 1 in base64", Buffer.from(`x${PW}yyyy`).toString("base64"), /inside base64 text$/],
        ["password at offset 2 in base64", Buffer.from(`xy${PW}yyyy`).toString("base64"), /inside base64 text$/],
    ];
    for (const [name, text, label] of leaks) {
        it(`finds: ${name}`, () => {
            const hits = scanText(text, spec, "t");
            assert.ok(hits.length >= 1, `no hit in ${name}`);
            assert.match(hits[0]!.label, label, hits.map(formatHit).join("\n"));
            for (const h of hits) noSecretIn(formatHit(h));
        });
    }

    it("reports line and column", () => {
        const hits = scanText(`line one\nline two has ${PW} here\n`, spec, "log");
        assert.equal(hits.length, 1);
        assert.deepEqual([hits[0]!.line, hits[0]!.column], [2, 14]);
        assert.match(formatHit(hits[0]!), /^log:2:14: password in ".*line two has <password> here/);
    });

    it("one leak is one hit (the longest form), not one per contained form", () => {
        const hits = scanText(`auth ${USER}:${PW} end`, spec);
        assert.deepEqual(hits.map((h) => h.label), ["user:password"]);
    });

    it("ignores Pulumi ciphertext: stack export secrets, secure: config values, encryptionsalt", () => {
        // Pretend-ciphertext that happens to contain the secret: the scan must not look inside it.
        const exported = JSON.stringify(
            {
                deployment: {
                    resources: [
                        {
                            outputs: {
                                kubeconfig: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: `v1:AAAA:${PW}` },
                                name: "policies",
                            },
                        },
                    ],
                },
            },
            null,
            4,
        );
        const stackYaml = `encryptionsalt: v1:abc=:v1:${Buffer.from(PW).toString("base64")}\nconfig:\n  policy-stack:registryPassword:\n    secure: v1:Zm9v:${Buffer.from(`${USER}:${PW}`).toString("base64")}\n`;
        const configJson = JSON.stringify({ "policy-stack:registryPassword": { secure: `v1:${Buffer.from(PW).toString("base64")}` } });
        assert.deepEqual(scanForSecrets({ texts: { exported, stackYaml, configJson } }, spec), []);
        assert.ok(!stripCiphertext(exported).includes(PW));
        // Outside the ciphertext, the same export leaking the value in clear is caught.
        const leaky = exported.replace('"name": "policies"', `"name": ${JSON.stringify(PW)}`);
        assert.equal(scanForSecrets({ texts: { leaky } }, spec).length, 1);
    });

    it("clean texts give no hit (no false positive on ordinary base64, other passwords)", () => {
        const clean = [
            "pushed oci://127.0.0.1:5000/policies:1.0.0@sha256:" + "a".repeat(64),
            `Authorization: Basic ${Buffer.from(`${USER}:other-password`).toString("base64")}`,
            Buffer.from(JSON.stringify({ auths: { h: { username: USER, password: "different-secret-1" } } })).toString("base64"),
            "error: authentication failed for registry 127.0.0.1:5000: the registry rejected the credentials of user \"policy-bot\" (value not shown)",
        ].join("\n");
        assert.deepEqual(scanText(clean, spec), []);
    });

    it("scans files and directory trees", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "secrets-scan-"));
        try {
            fs.mkdirSync(path.join(dir, "logs", "deep"), { recursive: true });
            fs.writeFileSync(path.join(dir, "logs", "clean.log"), "nothing to see\n");
            fs.writeFileSync(path.join(dir, "logs", "deep", "engine.log"), `I0101 header\nbasic ${Buffer.from(`${USER}:${PW}`).toString("base64")}\n`);
            fs.writeFileSync(path.join(dir, "binary.bin"), Buffer.concat([Buffer.from([0, 255, 254]), Buffer.from(PW), Buffer.from([0])]));
            const hits = scanForSecrets({ paths: [dir] }, spec);
            assert.deepEqual(
                hits.map((h) => [path.relative(dir, h.source), h.line, h.label]),
                [
                    ["binary.bin", 1, "password"],
                    [path.join("logs", "deep", "engine.log"), 2, "base64(user:password)"],
                ],
            );
            assert.throws(() => assertNoSecrets({ paths: [dir] }, spec), (e: Error) => {
                assert.match(e.message, /^2 secret leak\(s\):/);
                noSecretIn(e.message);
                return true;
            });
            assert.doesNotThrow(() => assertNoSecrets({ paths: [path.join(dir, "logs", "clean.log")] }, spec));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("base64 cores: fixed characters at each alignment, none for short secrets", () => {
        const cores = base64Cores("0123456789abcdef");
        assert.ok(cores.length >= 3);
        for (let shift = 0; shift < 3; shift++) {
            const enc = Buffer.from(`${"#".repeat(shift)}0123456789abcdef!!!`).toString("base64");
            assert.ok(cores.some((c) => enc.includes(c)), `alignment ${shift}`);
        }
        assert.deepEqual(base64Cores("short"), []);
        assert.throws(() => secretNeedles({ password: "" }), /empty password/);
    });
});
