/**
 * Private keys and their passwords never show in what lib/signing reports: every error a wrong
 * password or a malformed key produces (message, stack, inspected form) is scanned for the
 * password and the key material (test/support/signing-secrets.ts), as are a loaded key's printed
 * and JSON forms. Also checks the scan itself finds what it is meant to find.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import * as util from "node:util";

import { loadPublicKeys, loadSigningKey, SigningError } from "../../lib/signing";
import { formatHit, scanText } from "../support/secrets-scan";
import { signingKeySecretSpec } from "../support/signing-secrets";
import { cosignFixture, cosignFixtureEnvelope, cosignPem, ecKeyPair, encryptedPkcs8Pem, pkcs8Pem, sec1Pem } from "../support/signing-fixtures";

const PASSWORD = 'k3y-p@ss"w/rd-Zq8%x';

/** Everything an error could put in a log: message, stack, util.inspect (cause included). */
function printed(e: unknown): string {
    return [String(e), (e as Error).stack ?? "", util.inspect(e, { depth: 5 }), JSON.stringify(e)].join("\n");
}

async function failure(p: Promise<unknown> | (() => unknown)): Promise<SigningError> {
    try {
        await (typeof p === "function" ? p() : p);
    } catch (e) {
        assert.ok(e instanceof SigningError, `not a SigningError: ${String(e)}`);
        return e;
    }
    assert.fail("expected a failure");
}

function assertClean(text: string, spec: ReturnType<typeof signingKeySecretSpec>, what: string): void {
    assert.deepEqual(scanText(text, spec, what).map(formatHit), [], `${what} leaks key material or the password`);
}

describe("signing secrets: errors never carry the key or its password", () => {
    const { privateKey } = ecKeyPair();

    it("the scan finds the material it looks for", () => {
        const pem = pkcs8Pem(privateKey);
        const spec = signingKeySecretSpec(pem, PASSWORD, privateKey);
        const line = pem.split("\n")[1];
        const d = privateKey.export({ format: "jwk" }).d!;
        for (const leak of [`pw=${PASSWORD}`, `key: ${line}`, `d=${d}`, `hex=${Buffer.from(d, "base64url").toString("hex")}`]) {
            assert.notDeepEqual(scanText(leak, spec), [], leak.slice(0, 4));
        }
    });

    it("password-protected PKCS#8: no, wrong and garbage passwords", async () => {
        const pem = encryptedPkcs8Pem(privateKey, PASSWORD);
        const spec = signingKeySecretSpec(pem, PASSWORD, privateKey);
        for (const [name, pw] of [["no password", undefined], ["wrong password", `${PASSWORD}x`], ["password with a newline", `${PASSWORD}\n`]] as const) {
            assertClean(printed(await failure(loadSigningKey(pem, pw))), spec, name);
        }
    });

    it("malformed keys: corrupt, truncated, mislabelled, handed to the public-key reader", async () => {
        const pem = pkcs8Pem(privateKey);
        const spec = signingKeySecretSpec(pem, PASSWORD, privateKey);
        const lines = pem.split("\n");
        const corrupt = [lines[0], lines[1].replace(/^..../, "AAAA"), ...lines.slice(2)].join("\n");
        const truncated = [lines[0], lines[1], lines.at(-2)].join("\n");
        const mislabelled = pem.replace("BEGIN PRIVATE KEY", "BEGIN EC PRIVATE KEY");
        const cases: [string, () => unknown][] = [
            ["corrupt body", () => loadSigningKey(corrupt)],
            ["truncated body", () => loadSigningKey(truncated)],
            ["BEGIN/END labels differ", () => loadSigningKey(mislabelled)],
            ["SEC1 body under a PKCS#8 label", () => loadSigningKey(sec1Pem(privateKey).replace(/EC PRIVATE KEY/g, "PRIVATE KEY"))],
            ["two keys", () => loadSigningKey(pem + pem)],
            ["private key as a public key", () => loadPublicKeys(pem)],
            ["private key body in a PUBLIC KEY block", () => loadPublicKeys(pem.replace(/PRIVATE KEY/g, "PUBLIC KEY"))],
        ];
        for (const [name, run] of cases) assertClean(printed(await failure(run)), spec, name);
    });

    it("cosign keys: wrong password, missing password, broken envelopes", async () => {
        const spec = signingKeySecretSpec(cosignFixture.key, cosignFixture.password);
        const envelope = cosignFixtureEnvelope();
        const text = JSON.stringify(envelope);
        const cases: [string, () => unknown][] = [
            // Without tweetnacl this is the missing-dependency error; with it, the wrong-password one.
            ["wrong password", () => loadSigningKey(cosignFixture.key, `${cosignFixture.password}x`)],
            ["no password", () => loadSigningKey(cosignFixture.key)],
            // JSON.parse's own message would quote the text around the break: the salt, the ciphertext.
            ["envelope cut inside the ciphertext", () => loadSigningKey(cosignPem(text.slice(0, text.indexOf(envelope.ciphertext) + 20)), cosignFixture.password)],
            ["envelope with a stray character", () => loadSigningKey(cosignPem(text.replace('"ciphertext"', '"ciphertext"x')), cosignFixture.password)],
            ["unsupported scrypt cost", () => loadSigningKey(cosignPem(text.replace('"N":65536', '"N":1048576')), cosignFixture.password)],
        ];
        for (const [name, run] of cases) assertClean(printed(await failure(run)), spec, name);
    });

    it("a loaded key prints and serialises without its material", async () => {
        const pem = pkcs8Pem(privateKey);
        const key = await loadSigningKey(pem);
        const spec = signingKeySecretSpec(pem, PASSWORD, privateKey);
        assertClean(util.inspect(key, { depth: 10, showHidden: true }), spec, "util.inspect(SigningKey)");
        assertClean(JSON.stringify(key), spec, "JSON.stringify(SigningKey)");
        assertClean(`${String(key.privateKey)} ${key.publicKey.pem} ${key.publicKey.fingerprint}`, spec, "string forms");
    });
});
