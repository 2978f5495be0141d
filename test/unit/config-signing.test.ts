/**
 * The `signing` config section (lib/config/signing.ts), what Flux gets from it
 * (lib/verification.ts), and the preview's signature line where no registry answers
 * (lib/preview/signature.ts; the registry cases are in test/integration/artifact-provider.test.ts).
 * Key material never appears in a problem.
 */
import { describe, test } from "node:test";
import * as crypto from "node:crypto";
import assert from "node:assert/strict";
import { type SigningConfig } from "../../lib/config";
import { publishedSignatureLine } from "../../lib/preview/signature";
import { fluxVerification, trustsKeys, verificationKeyEntries, verificationSecretName } from "../../lib/verification";
import { cosignFixture, ecKeyPair, encryptedPkcs8Pem, pkcs8Pem, spkiPem } from "../support/signing-fixtures";
import { signingKeySecretSpec } from "../support/signing-secrets";
import { assertNoSecrets } from "../support/secrets-scan";
import { parse, problemsOf } from "../support/stackConfig";

const signingOf = (values: Record<string, string>) => parse(values).signing;

const identity = JSON.stringify([{ issuer: "^https://token\\.actions\\.githubusercontent\\.com$", subject: "^https://github\\.com/acme/policies/" }]);

describe("signing config", () => {
    test("nothing set: no signing, no verification", () => {
        assert.deepEqual(signingOf({}), { key: undefined, keyPassword: undefined, keyFingerprint: undefined, verification: "none", publicKeys: [], identities: [] });
    });

    test("a cosign key with its password: cosign verification with the key's public half by default", () => {
        const s = signingOf({ signingKey: cosignFixture.key, signingKeyPassword: cosignFixture.password });
        assert.equal(s.verification, "cosign");
        assert.equal(s.key, cosignFixture.key);
        assert.equal(s.keyPassword, cosignFixture.password);
        assert.match(s.keyFingerprint!, /^sha256:[0-9a-f]{64}$/);
        assert.equal(s.publicKeys.length, 1);
        assert.equal(s.publicKeys[0].pem.trim(), cosignFixture.pub.trim());
        assert.equal(s.publicKeys[0].fingerprint, s.keyFingerprint);
    });

    test("a PKCS#8 key (openssl genpkey) needs no password; an encrypted one does", () => {
        const { privateKey } = ecKeyPair();
        assert.equal(signingOf({ signingKey: pkcs8Pem(privateKey) }).verification, "cosign");
        assert.equal(signingOf({ signingKey: encryptedPkcs8Pem(privateKey, "pw-123456"), signingKeyPassword: "pw-123456" }).publicKeys.length, 1);
    });

    test("signing without verification, and verification with keys from elsewhere", () => {
        const { privateKey } = ecKeyPair();
        const signOnly = signingOf({ signingKey: pkcs8Pem(privateKey), verification: "none" });
        assert.equal(signOnly.verification, "none");
        assert.deepEqual(signOnly.publicKeys, []);
        assert.ok(signOnly.key);
        const a = ecKeyPair().privateKey;
        const b = ecKeyPair().privateKey;
        const elsewhere = signingOf({ verificationPublicKeys: spkiPem(a) + spkiPem(b) });
        assert.equal(elsewhere.verification, "cosign");
        assert.equal(elsewhere.key, undefined);
        assert.equal(elsewhere.publicKeys.length, 2);
        const both = signingOf({ signingKey: pkcs8Pem(a), verificationPublicKeys: spkiPem(b) + spkiPem(a) });
        assert.equal(both.publicKeys.length, 2, "the given keys, which include the signing key's");
    });

    test("keyless identities from structured config", () => {
        const s = signingOf({ verificationIdentities: identity });
        assert.equal(s.verification, "cosign");
        assert.deepEqual(s.identities, JSON.parse(identity));
        assert.deepEqual(s.publicKeys, []);
    });

    test("problems name the key and the fix, all at once, never the key material or password", () => {
        const { privateKey } = ecKeyPair();
        const pem = encryptedPkcs8Pem(privateKey, "right-password-1");
        const problems = problemsOf({ signingKey: pem, signingKeyPassword: "wrong-password-2", verificationIdentities: "[{}]", verification: "sometimes" });
        const text = problems.join("\n");
        assert.match(text, /policy-stack:signingKeyPassword: the password does not decrypt the ENCRYPTED PRIVATE KEY .*pulumi config set --secret signingKeyPassword/);
        assert.match(text, /policy-stack:verificationIdentities\[0\]\.issuer: required/);
        assert.match(text, /policy-stack:verificationIdentities\[0\]\.subject: required/);
        assert.match(text, /policy-stack:verification = "sometimes": must be one of none \| cosign/);
        assertNoSecrets({ texts: { problems: text } }, signingKeySecretSpec(pem, "wrong-password-2", privateKey));
        assert.ok(!text.includes("right-password-1"));
    });

    test("a key that is not one, on another curve, or encrypted without a password", () => {
        const p384 = ecKeyPair("P-384").privateKey;
        const cases: [Record<string, string>, RegExp][] = [
            [{ signingKey: "not a pem" }, /policy-stack:signingKey = \[secret\]: the signing key holds no PEM block.*cosign generate-key-pair/],
            [{ signingKey: pkcs8Pem(p384) }, /policy-stack:signingKey = \[secret\]: the private key is EC on curve secp384r1; only ECDSA P-256/],
            [{ signingKey: cosignFixture.key }, /policy-stack:signingKeyPassword: the cosign private key is encrypted and no password was given; set it/],
            [{ signingKeyPassword: "x" }, /policy-stack:signingKeyPassword: set, but signingKey is not/],
            [{ verificationPublicKeys: pkcs8Pem(ecKeyPair().privateKey) }, /policy-stack:verificationPublicKeys: PEM block 1 \(PRIVATE KEY\) is not a PUBLIC KEY: this is a private key/],
            [{ verification: "cosign" }, /policy-stack:verification: cosign needs something to trust/],
            [{ verification: "none", verificationPublicKeys: spkiPem(ecKeyPair().privateKey) }, /policy-stack:verificationPublicKeys = .*only applies with verification cosign/],
            [{ verificationIdentities: "not json" }, /policy-stack:verificationIdentities = "not json": must be a non-empty list/],
            [{ verificationIdentities: JSON.stringify([{ issuer: "(", subject: "x" }]) }, /verificationIdentities\[0\]\.issuer = "\(": not a valid regular expression/],
            [{ verificationIdentities: identity, signingKey: pkcs8Pem(ecKeyPair().privateKey) }, /verificationIdentities: Flux verifies keylessly or with keys, not both, and signingKey is set/],
            [{ signingKey: pkcs8Pem(ecKeyPair().privateKey), verificationPublicKeys: spkiPem(ecKeyPair().privateKey) }, /verificationPublicKeys: does not hold the public half of signingKey/],
        ];
        for (const [values, expected] of cases) {
            const problems = problemsOf(values);
            assert.ok(problems.some((p) => expected.test(p)), `${Object.keys(values).join(", ")}: ${problems.join(" | ")}`);
            if (values.signingKey) assert.ok(!problems.join("\n").includes(values.signingKey.split("\n")[1] ?? values.signingKey), "no key text in the problems");
        }
    });
});

describe("what Flux gets", () => {
    const keys = (n: number) => Array.from({ length: n }, () => {
        const pem = spkiPem(ecKeyPair().privateKey);
        return { pem, fingerprint: `sha256:${crypto.createHash("sha256").update(pem).digest("hex")}` };
    });
    const base: SigningConfig = { verification: "cosign", publicKeys: keys(2), identities: [] };

    test("spec.verify: a Secret of keys, or the identities, or nothing", () => {
        assert.deepEqual(fluxVerification(base, "s"), { provider: "cosign", secretRef: { name: "s" } });
        assert.deepEqual(fluxVerification({ ...base, publicKeys: [], identities: [{ issuer: "i", subject: "s" }] }), { provider: "cosign", matchOIDCIdentity: [{ issuer: "i", subject: "s" }] });
        assert.equal(fluxVerification({ ...base, verification: "none" }), undefined);
        assert.throws(() => fluxVerification(base), /needs the Secret's name/);
        assert.equal(trustsKeys(base), true);
        assert.equal(trustsKeys({ ...base, verification: "none" }), false);
        assert.equal(verificationSecretName("kyverno-policies"), "kyverno-policies-cosign-keys");
    });

    test("the Secret has one *.pub entry per key, named by fingerprint, the same in any order", () => {
        const entries = verificationKeyEntries(base.publicKeys);
        assert.equal(Object.keys(entries).length, 2);
        for (const [name, pem] of Object.entries(entries)) {
            assert.match(name, /^cosign-[0-9a-f]{16}\.pub$/);
            assert.match(pem, /^-----BEGIN PUBLIC KEY-----/);
        }
        assert.deepEqual(verificationKeyEntries([...base.publicKeys].reverse()), entries);
    });
});

describe("the preview's signature line", () => {
    const signing: SigningConfig = { verification: "cosign", publicKeys: [{ pem: cosignFixture.pub, fingerprint: "sha256:x" }], identities: [] };

    test("nothing to say without verification or without a published tag", async () => {
        assert.equal(await publishedSignatureLine({ url: "oci://127.0.0.1:1/p", tag: "1.0.0", signing: { ...signing, verification: "none" } }), undefined);
        assert.equal(await publishedSignatureLine({ url: "oci://127.0.0.1:1/p", signing }), undefined);
    });

    test("keyless: Flux checks, the preview says it does not", async () => {
        const line = await publishedSignatureLine({ url: "oci://127.0.0.1:1/p", tag: "1.0.0", signing: { ...signing, publicKeys: [], identities: [{ issuer: "i", subject: "s" }] } });
        assert.match(line!, /verified keylessly by Flux \(verificationIdentities\); the preview does not check/);
    });

    test("an unreachable registry costs the line, not the preview", async () => {
        const line = await publishedSignatureLine({ url: "oci://127.0.0.1:1/p", tag: "1.0.0", signing, insecure: true, timeoutMs: 500 });
        assert.match(line!, /^signature: could not check oci:\/\/127\.0\.0\.1:1\/p:1\.0\.0 \(/);
    });
});
