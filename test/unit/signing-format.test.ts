/**
 * lib/signing formats: the simple-signing payload, the ECDSA signature and the signature
 * artifact, checked byte for byte against what the real cosign wrote (test/fixtures/signing),
 * and the verdict on every kind of signature layer.
 */
import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import { describe, it } from "node:test";

import {
    buildSignatureImage,
    decodeSignature,
    loadPublicKeys,
    loadSigningKey,
    parseSimpleSigningPayload,
    signatureLayer,
    signatureTag,
    signPayload,
    simpleSigningPayload,
    SIGNATURE_ANNOTATION,
    verifyPayload,
    verifySignatureLayers,
    type SignatureLayer,
    type SigningKey,
} from "../../lib/signing";
import { cosignFixture, cosignFixtureSignature, ecKeyPair, pkcs8Pem } from "../support/signing-fixtures";

const DIGEST = cosignFixture.digest;
const OTHER_DIGEST = `sha256:${"b".repeat(64)}`;

async function newKey(): Promise<SigningKey> {
    return loadSigningKey(pkcs8Pem(ecKeyPair().privateKey));
}

describe("signing formats: what cosign writes", () => {
    it("the payload is byte for byte cosign's", () => {
        const p = simpleSigningPayload({ dockerReference: cosignFixture.dockerReference, manifestDigest: DIGEST });
        assert.equal(p.toString(), cosignFixture.payload.toString());
    });

    it("cosign's signature verifies with cosign.pub (and not over another payload)", () => {
        const [pub] = loadPublicKeys(cosignFixture.pub);
        const sig = decodeSignature(cosignFixtureSignature())!;
        assert.ok(verifyPayload(pub, cosignFixture.payload, sig));
        assert.ok(!verifyPayload(pub, Buffer.concat([cosignFixture.payload, Buffer.from(" ")]), sig));
    });

    it("the signature manifest and config are byte for byte cosign's", () => {
        const image = buildSignatureImage([signatureLayer(cosignFixture.payload, cosignFixtureSignature())]);
        assert.equal(image.config.toString(), cosignFixture.config.toString());
        assert.equal(image.manifest.toString(), cosignFixture.manifest.toString());
        assert.deepEqual(image.layers.map((l) => l.data.toString()), [cosignFixture.payload.toString()]);
        assert.equal(image.signatures, 1);
    });

    it("the signature tag is sha256-<hex>.sig", () => {
        assert.equal(signatureTag(DIGEST), `sha256-${DIGEST.slice(7)}.sig`);
        assert.throws(() => signatureTag("sha256:xyz"), /invalid manifest digest/);
    });
});

describe("signing formats: payload, signature and artifact", () => {
    it("payload annotations go to optional and read back", () => {
        const p = simpleSigningPayload({ dockerReference: "r/x", manifestDigest: DIGEST, annotations: { "git.sha": "abc" } });
        assert.deepEqual(parseSimpleSigningPayload(p), { dockerReference: "r/x", manifestDigest: DIGEST, annotations: { "git.sha": "abc" } });
        assert.match(simpleSigningPayload({ dockerReference: "r/x", manifestDigest: DIGEST, annotations: {} }).toString(), /"optional":null/);
    });

    it("payloads that are not cosign image signatures are refused", () => {
        const doc = (critical: unknown, extra: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({ critical, ...extra }));
        const ok = { identity: { "docker-reference": "r" }, image: { "docker-manifest-digest": DIGEST }, type: "cosign container image signature" };
        assert.throws(() => parseSimpleSigningPayload(Buffer.from("{")), /is not JSON/);
        assert.throws(() => parseSimpleSigningPayload(doc(undefined)), /has no critical section/);
        assert.throws(() => parseSimpleSigningPayload(doc({ ...ok, type: "https://in-toto.io/Statement/v0.1" })), /not a cosign image signature \(type "https:\/\/in-toto.io/);
        assert.throws(() => parseSimpleSigningPayload(doc({ ...ok, image: { "docker-manifest-digest": "sha256:1" } })), /names no valid manifest digest/);
        assert.throws(() => parseSimpleSigningPayload(doc(ok, { optional: [1] })), /optional section that is not an object/);
        assert.throws(() => parseSimpleSigningPayload(Buffer.alloc(70_000, 32)), /is too large \(70000 bytes\)/);
    });

    it("sign then verify; another key, a changed payload and malformed DER do not verify", async () => {
        const key = await newKey();
        const other = await newKey();
        const payload = simpleSigningPayload({ dockerReference: "r/x", manifestDigest: DIGEST });
        const sig = decodeSignature(signPayload(key, payload))!;
        assert.ok(verifyPayload(key.publicKey, payload, sig));
        assert.ok(!verifyPayload(other.publicKey, payload, sig));
        assert.ok(!verifyPayload(key.publicKey, simpleSigningPayload({ dockerReference: "r/x", manifestDigest: OTHER_DIGEST }), sig));
        assert.ok(!verifyPayload(key.publicKey, payload, Buffer.from("not DER")));
    });

    it("only strict padded base64 is a signature", () => {
        assert.equal(decodeSignature(""), undefined);
        assert.equal(decodeSignature("abc"), undefined);
        assert.equal(decodeSignature("ab-_"), undefined);
        assert.deepEqual(decodeSignature("AQI="), Buffer.from([1, 2]));
    });

    it("an artifact keeps distinct signatures in order and drops exact repeats", () => {
        const a = signatureLayer(Buffer.from("payload-a"), "AAAA");
        const b = signatureLayer(Buffer.from("payload-a"), "BBBB");
        const image = buildSignatureImage([a, b, a]);
        const m = JSON.parse(image.manifest.toString());
        assert.deepEqual(m.layers.map((l: any) => l.annotations[SIGNATURE_ANNOTATION]), ["AAAA", "BBBB"]);
        assert.equal(image.layers.length, 1, "one blob for the shared payload");
        assert.equal(JSON.parse(image.config.toString()).rootfs.diff_ids.length, 2);
        assert.throws(() => buildSignatureImage([]), /at least one signature/);
    });
});

describe("signing formats: the verdict on a digest's signatures", () => {
    const layerFor = (key: SigningKey, digest: string): SignatureLayer => {
        const payload = simpleSigningPayload({ dockerReference: "r/x", manifestDigest: digest });
        return signatureLayer(payload, signPayload(key, payload));
    };

    it("each kind of signature gets its status and reason", async () => {
        const key = await newKey();
        const other = await newKey();
        const good = layerFor(key, DIGEST);
        const cases: [string, SignatureLayer[], string, RegExp][] = [
            ["no layers", [], "unsigned", /has no cosign signature/],
            ["signed by the key", [good], "verified", /is signed by a trusted key \(its signature: signed by sha256:[0-9a-f]{16}\)/],
            ["signed by another key", [layerFor(other, DIGEST)], "other-key", /not signed by a trusted key \(its signature: not signed by the trusted key \(another key, or altered after signing\)\)/],
            ["signed by the key for another digest", [layerFor(key, OTHER_DIGEST)], "digest-mismatch", new RegExp(`a trusted key's signature names another manifest .*for another manifest, ${OTHER_DIGEST}`)],
            ["payload altered after signing", [{ ...good, payload: Buffer.from(good.payload!.toString().replace("r/x", "r/y")) }], "other-key", /altered after signing/],
            ["no signature annotation", [{ ...good, annotations: {} }], "bad-signature", /no dev.cosignproject.cosign\/signature annotation/],
            ["signature not base64", [{ ...good, annotations: { [SIGNATURE_ANNOTATION]: "%%%" } }], "bad-signature", /not base64/],
            ["another media type", [{ ...good, mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json" }], "bad-signature", /not a cosign simple-signing payload/],
            ["payload too large to read", [{ ...good, payload: undefined }], "bad-signature", /too large/],
            ["a good one among others", [layerFor(other, DIGEST), { ...good, annotations: {} }, good], "verified", /3 signatures; best: signed by/],
            ["a replayed one beats another key's", [layerFor(other, DIGEST), layerFor(key, OTHER_DIGEST)], "digest-mismatch", /names another manifest/],
        ];
        for (const [name, layers, status, message] of cases) {
            const v = verifySignatureLayers(DIGEST, layers, [key.publicKey]);
            assert.equal(v.status, status, name);
            assert.match(v.message, message, name);
            assert.equal(v.verifiedBy, status === "verified" ? key.publicKey.fingerprint : undefined, name);
        }
    });

    it("any of several trusted keys verifies, and is named", async () => {
        const [a, b] = [await newKey(), await newKey()];
        const v = verifySignatureLayers(DIGEST, [layerFor(b, DIGEST)], [a.publicKey, b.publicKey]);
        assert.equal(v.status, "verified");
        assert.equal(v.verifiedBy, b.publicKey.fingerprint);
        assert.match(verifySignatureLayers(DIGEST, [layerFor(b, DIGEST)], [a.publicKey, a.publicKey]).message, /any of the 2 trusted keys/);
    });

    it("cosign's own signature from the fixture is verified", () => {
        const layer = signatureLayer(cosignFixture.payload, cosignFixtureSignature());
        assert.equal(verifySignatureLayers(DIGEST, [layer], loadPublicKeys(cosignFixture.pub)).status, "verified");
        assert.equal(verifySignatureLayers(OTHER_DIGEST, [layer], loadPublicKeys(cosignFixture.pub)).status, "digest-mismatch");
    });

    it("a fresh signature each time (ECDSA is randomised), each verifying", async () => {
        const key = await newKey();
        const p = Buffer.from("x");
        const [s1, s2] = [signPayload(key, p), signPayload(key, p)];
        assert.notEqual(s1, s2);
        for (const s of [s1, s2]) assert.ok(crypto.verify("sha256", p, key.publicKey.key, decodeSignature(s)!));
    });
});
