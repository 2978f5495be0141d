/**
 * lib/signing key loading: every PEM shape that is read, every one that is refused (with the
 * reason), and cosign's encrypted envelope.
 */
import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import { describe, it } from "node:test";

import { loadPublicKeys, loadSigningKey, SigningError, type SigningErrorCode } from "../../lib/signing";
import {
    cosignFixture,
    cosignFixtureEnvelope,
    cosignPem,
    ecKeyPair,
    encryptedPkcs8Pem,
    pkcs8Pem,
    sec1Pem,
    spkiPem,
} from "../support/signing-fixtures";


async function rejectsWith(p: Promise<unknown>, code: SigningErrorCode, message: RegExp): Promise<void> {
    await assert.rejects(p, (e: unknown) => {
        assert.ok(e instanceof SigningError, `not a SigningError: ${String(e)}`);
        assert.equal(e.code, code, e.message);
        assert.match(e.message, message);
        return true;
    });
}

describe("signing keys: PKCS#8 and SEC1 (openssl)", () => {
    const { privateKey } = ecKeyPair();

    it("reads unencrypted PKCS#8 and derives the public half", async () => {
        const k = await loadSigningKey(pkcs8Pem(privateKey));
        assert.equal(k.kind, "pkcs8");
        assert.equal(k.publicKey.pem, spkiPem(privateKey));
        const der = crypto.createPublicKey(privateKey).export({ type: "spki", format: "der" });
        assert.equal(k.publicKey.fingerprint, `sha256:${crypto.createHash("sha256").update(der).digest("hex")}`);
    });

    it("ignores a password given for an unencrypted key", async () => {
        assert.equal((await loadSigningKey(pkcs8Pem(privateKey), "unused")).kind, "pkcs8");
    });

    it("reads SEC1, also after the EC PARAMETERS block `openssl ecparam -genkey` writes", async () => {
        assert.equal((await loadSigningKey(sec1Pem(privateKey))).kind, "sec1");
        const params = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
        assert.equal((await loadSigningKey(Buffer.from(params + sec1Pem(privateKey)))).publicKey.pem, spkiPem(privateKey));
    });

    it("reads password-protected PKCS#8 with its password, refuses it without or with another", async () => {
        const pem = encryptedPkcs8Pem(privateKey, "s3cret-pass");
        assert.equal((await loadSigningKey(pem, "s3cret-pass")).kind, "pkcs8-encrypted");
        await rejectsWith(loadSigningKey(pem), "key-password", /encrypted and no password was given/);
        await rejectsWith(loadSigningKey(pem, "other"), "key-password", /password does not decrypt/);
    });

    it("refuses other curves and algorithms, naming what they are", async () => {
        await rejectsWith(loadSigningKey(pkcs8Pem(ecKeyPair("P-384").privateKey)), "key-unsupported", /EC on curve secp384r1; only ECDSA P-256/);
        const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey;
        await rejectsWith(loadSigningKey(pkcs8Pem(rsa)), "key-unsupported", /is rsa; only ECDSA P-256/);
        const ed = crypto.generateKeyPairSync("ed25519").privateKey;
        await rejectsWith(loadSigningKey(pkcs8Pem(ed)), "key-unsupported", /is ed25519/);
    });

    it("refuses texts that hold no single private key", async () => {
        await rejectsWith(loadSigningKey("not a key"), "key-format", /holds no PEM block/);
        await rejectsWith(loadSigningKey(spkiPem(privateKey)), "key-format", /holds only PUBLIC KEY; expected a private key/);
        await rejectsWith(loadSigningKey(pkcs8Pem(privateKey) + sec1Pem(privateKey)), "key-format", /2 key blocks \(PRIVATE KEY, EC PRIVATE KEY\)/);
        await rejectsWith(loadSigningKey("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "key-unsupported", /CERTIFICATE PEM block/);
    });

    it("refuses malformed PEM: bad base64, mismatched labels, a corrupt body", async () => {
        await rejectsWith(loadSigningKey("-----BEGIN PRIVATE KEY-----\nnot*base64\n-----END PRIVATE KEY-----\n"), "key-format", /PEM block 1 \(PRIVATE KEY\) has a body that is not base64/);
        await rejectsWith(loadSigningKey("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"), "key-format", /ends with a different label/);
        await rejectsWith(loadSigningKey("-----BEGIN PRIVATE KEY-----\nAAAAAAAA\n-----END PRIVATE KEY-----\n"), "key-format", /PRIVATE KEY PEM block is not a readable key/);
    });
});

describe("signing keys: public keys", () => {
    it("reads cosign.pub", () => {
        const [k] = loadPublicKeys(cosignFixture.pub);
        assert.equal(k.pem, cosignFixture.pub);
        assert.match(k.fingerprint, /^sha256:[0-9a-f]{64}$/);
    });

    it("reads several keys from one text, in order", () => {
        const a = ecKeyPair().privateKey;
        const b = ecKeyPair().privateKey;
        const keys = loadPublicKeys(spkiPem(a) + "\n" + spkiPem(b));
        assert.deepEqual(keys.map((k) => k.pem), [spkiPem(a), spkiPem(b)]);
    });

    it("refuses a private key (pointing at its public half), other curves, and empty input", () => {
        const { privateKey } = ecKeyPair();
        assert.throws(() => loadPublicKeys(pkcs8Pem(privateKey)), /PEM block 1 \(PRIVATE KEY\) is not a PUBLIC KEY: this is a private key, give its public half/);
        assert.throws(() => loadPublicKeys(spkiPem(ecKeyPair("P-384").privateKey)), /PEM block 1 \(PUBLIC KEY\) is EC on curve secp384r1/);
        assert.throws(() => loadPublicKeys(""), /no PEM block found/);
        assert.throws(() => loadPublicKeys("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), /not a readable SPKI public key/);
    });
});

describe("signing keys: cosign generate-key-pair keys", () => {
    const envelope = cosignFixtureEnvelope();
    const withEnvelope = (change: (e: Record<string, any>) => void) => {
        const e = structuredClone(envelope);
        change(e);
        return cosignPem(JSON.stringify(e));
    };

    it("refuses malformed envelopes before any decryption", async () => {
        await rejectsWith(loadSigningKey(cosignPem("{not json"), "pw"), "key-format", /envelope is not JSON/);
        await rejectsWith(loadSigningKey(withEnvelope((e) => (e.kdf.name = "argon2")), "pw"), "key-format", /does not use the scrypt KDF/);
        await rejectsWith(loadSigningKey(withEnvelope((e) => (e.cipher.name = "aes-gcm")), "pw"), "key-format", /nacl\/secretbox cipher/);
        // A crafted N would make scrypt claim gigabytes: only cosign's three settings are accepted.
        await rejectsWith(loadSigningKey(withEnvelope((e) => (e.kdf.params.N = 1 << 24)), "pw"), "key-format", /unsupported scrypt parameters \(N=16777216, r=8, p=1\)/);
        await rejectsWith(loadSigningKey(withEnvelope((e) => (e.cipher.nonce = "AAAA")), "pw"), "key-format", /valid 24-byte nonce/);
        await rejectsWith(loadSigningKey(withEnvelope((e) => delete e.ciphertext), "pw"), "key-format", /no valid ciphertext/);
        await rejectsWith(loadSigningKey(withEnvelope((e) => (e.kdf.salt = "not base64!")), "pw"), "key-format", /no valid salt/);
    });

    it("asks for the password instead of trying without", async () => {
        await rejectsWith(loadSigningKey(cosignFixture.key), "key-password", /cosign private key is encrypted and no password was given/);
    });

    it("decrypts with the password; the public half is cosign.pub", async () => {
        const k = await loadSigningKey(cosignFixture.key, cosignFixture.password);
        assert.equal(k.kind, "cosign");
        assert.equal(k.publicKey.pem, cosignFixture.pub);
    });

    it("reads the older ENCRYPTED COSIGN PRIVATE KEY label", async () => {
        const k = await loadSigningKey(cosignPem(JSON.stringify(envelope), "ENCRYPTED COSIGN PRIVATE KEY"), cosignFixture.password);
        assert.equal(k.publicKey.pem, cosignFixture.pub);
    });

    it("refuses a wrong or empty password", async () => {
        await rejectsWith(loadSigningKey(cosignFixture.key, "wrong"), "key-password", /password does not decrypt the cosign private key/);
        await rejectsWith(loadSigningKey(cosignFixture.key, ""), "key-password", /password does not decrypt/);
    });
});
