/**
 * Signatures written by lib/signing against a real registry (Distribution 2.8), checked by the
 * real cosign (the pinned v3 build): `cosign verify --key` accepts them; the wrong key is refused;
 * a manifest changed after signing is refused (re-pushed to the same tag, and the replay of the
 * old signature onto the new digest); and our verifyArtifact agrees with cosign every time. Keys
 * of both kinds: openssl PKCS#8 and `cosign generate-key-pair`.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import type { BuiltArtifact } from "../../lib/artifact";
import { pullImage, pushImage, resolveTag, type ClientOptions } from "../../lib/oci";
import {
    loadPublicKeys,
    loadSigningKey,
    readSignatures,
    signArtifact,
    signatureTag,
    verifyArtifact,
    type PublicKey,
    type SigningKey,
    type VerificationStatus,
} from "../../lib/signing";
import { COSIGN_SIGN_CLASSIC_FLAGS, COSIGN_VERIFY_OFFLINE_FLAGS, cosignRegistryFlags, ensureCosign, type Cosign } from "../support/cosign";
import { run } from "../harness/processes";
import { startRegistry, type RegistryHandle } from "../harness/registry";
import { buildSample, changedSampleCopy, layersOf, tempDir } from "../support/registry-artifact";

const COSIGN_PASSWORD = "integration-pass-Zq8%x";

/** An openssl P-256 PKCS#8 key pair in `dir`: `<name>.key`, `<name>.pub`. */
async function opensslKeyPair(dir: string, name: string): Promise<{ key: string; pub: string }> {
    const key = path.join(dir, `${name}.key`);
    const pub = path.join(dir, `${name}.pub`);
    for (const args of [
        ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
        ["pkey", "-in", key, "-pubout", "-out", pub],
    ]) {
        const r = await run("openssl", args);
        assert.equal(r.code, 0, `openssl ${args[0]}: ${r.stderr}`);
    }
    return { key, pub };
}

describe("signing: lib/signing and the real cosign agree (anonymous registry)", () => {
    let reg: RegistryHandle;
    let cosign: Cosign;
    let sample: BuiltArtifact;
    let changedSample: BuiltArtifact;
    let changedDir: string;
    const tmp = tempDir("signing-cosign");
    const keys: Record<"openssl" | "other", { key: string; pub: string; signing?: SigningKey; public?: PublicKey[] }> = {} as never;
    const client: ClientOptions = { retry: { baseDelayMs: 20 } };

    before(async () => {
        [reg, cosign] = await Promise.all([startRegistry({ mode: "anonymous" }), ensureCosign()]);
        sample = await buildSample();
        changedDir = changedSampleCopy();
        changedSample = await buildSample(changedDir);
        for (const name of ["openssl", "other"] as const) {
            const k = await opensslKeyPair(tmp, name);
            keys[name] = { ...k, signing: await loadSigningKey(fs.readFileSync(k.key)), public: loadPublicKeys(fs.readFileSync(k.pub)) };
        }
    });
    after(async () => {
        await reg?.stop();
        cosign?.cleanup();
        for (const s of [sample, changedSample]) if (s) fs.rmSync(path.dirname(s.layer.path), { recursive: true, force: true });
        if (changedDir) fs.rmSync(changedDir, { recursive: true, force: true });
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    const push = (repo: string, art: BuiltArtifact, force = false) =>
        pushImage({ ...client, url: reg.url(repo), tag: "v1", manifest: art.manifest, config: art.config, layers: layersOf(art), force });

    /** `cosign verify --key pubFile host/repo:tag`: exit code, and the digests the verified payloads name. */
    async function cosignVerify(repo: string, pubFile: string, ref = ":v1") {
        const r = await cosign.run(["verify", "--key", pubFile, ...COSIGN_VERIFY_OFFLINE_FLAGS, ...cosignRegistryFlags(reg), "--output", "json", `${reg.host}/${repo}${ref}`]);
        const claims = r.code === 0 ? (JSON.parse(r.stdout) as { critical: { image: { "docker-manifest-digest": string } } }[]) : [];
        return { ...r, digests: claims.map((c) => c.critical.image["docker-manifest-digest"]) };
    }

    /** Both verdicts on `repo:v1` with `pubFile`; asserts they agree and returns ours. */
    async function bothVerify(repo: string, pubFile: string, expected: VerificationStatus, cosignError?: RegExp) {
        const ours = await verifyArtifact({ ...client, url: reg.url(repo), tag: "v1", publicKeys: loadPublicKeys(fs.readFileSync(pubFile)) });
        const theirs = await cosignVerify(repo, pubFile);
        assert.equal(ours.status, expected, ours.message);
        assert.equal(theirs.code === 0, expected === "verified", `cosign verify exit ${theirs.code} while ours says ${ours.status}:\n${theirs.stderr}`);
        if (cosignError) assert.match(theirs.stderr, cosignError);
        if (expected === "verified") assert.deepEqual(theirs.digests, [ours.digest]);
        return ours;
    }

    it("openssl PKCS#8 key: we sign, cosign verify --key accepts it, and so do we", async () => {
        const pushed = await push("a/policies", sample);
        const signed = await signArtifact({ ...client, url: reg.url("a/policies"), digest: pushed.digest, key: keys.openssl.signing! });
        assert.equal(signed.unchanged, false);
        assert.equal(signed.signatureTag, signatureTag(pushed.digest));
        const v = await bothVerify("a/policies", keys.openssl.pub, "verified");
        assert.equal(v.verifiedBy, keys.openssl.signing!.publicKey.fingerprint);
        // cosign given the digest instead of the tag (what Flux verifies) agrees too.
        assert.equal((await cosignVerify("a/policies", keys.openssl.pub, `@${pushed.digest}`)).code, 0);
    });

    it("signing again with the same key writes nothing", async () => {
        const digest = (await resolveTag({ ...client, url: reg.url("a/policies"), tag: "v1" }))!;
        const before = await resolveTag({ ...client, url: reg.url("a/policies"), tag: signatureTag(digest) });
        const again = await signArtifact({ ...client, url: reg.url("a/policies"), digest, key: keys.openssl.signing! });
        assert.equal(again.unchanged, true);
        assert.equal(again.push, undefined);
        assert.equal(again.signatureDigest, before);
    });

    it("the wrong key: cosign refuses, we say other-key", async () => {
        await bothVerify("a/policies", keys.other.pub, "other-key", /no matching signatures/);
    });

    it("the manifest changed after signing (re-pushed to the same tag): cosign refuses, we say unsigned", async () => {
        await push("b/policies", sample);
        const signedDigest = (await resolveTag({ ...client, url: reg.url("b/policies"), tag: "v1" }))!;
        await signArtifact({ ...client, url: reg.url("b/policies"), digest: signedDigest, key: keys.openssl.signing! });
        await bothVerify("b/policies", keys.openssl.pub, "verified");

        const moved = await push("b/policies", changedSample, true);
        assert.notEqual(moved.digest, signedDigest);
        await bothVerify("b/policies", keys.openssl.pub, "unsigned", /no signatures found/);
    });

    it("...and with the old signature copied onto the new digest: cosign refuses the claim, we say digest-mismatch", async () => {
        const url = reg.url("b/policies");
        const oldDigest = sample.manifestDigest;
        const newDigest = (await resolveTag({ ...client, url, tag: "v1" }))!;
        const old = await pullImage({ ...client, url, tag: signatureTag(oldDigest) });
        try {
            await pushImage({ ...client, url, tag: signatureTag(newDigest), manifest: old.manifest, config: old.config, layers: old.layers });
        } finally {
            old.cleanup();
        }
        await bothVerify("b/policies", keys.openssl.pub, "digest-mismatch", /invalid or missing digest in claim/);
    });

    it("cosign generate-key-pair key: cosign appends to our artifact, and its signature verifies with ours", async () => {
        const gen = await cosign.run(["generate-key-pair", "--output-key-prefix", path.join(tmp, "cosign")], { COSIGN_PASSWORD });
        assert.equal(gen.code, 0, gen.stderr);
        const pushed = await push("c/policies", sample);
        const cosignSign = async () => {
            const ref = `${reg.host}/c/policies@${pushed.digest}`;
            const r = await cosign.run(["sign", "--key", path.join(tmp, "cosign.key"), ...COSIGN_SIGN_CLASSIC_FLAGS, ...cosignRegistryFlags(reg), ref], { COSIGN_PASSWORD });
            assert.equal(r.code, 0, r.stderr);
        };
        // Ours first: cosign appends its signature to the artifact we wrote (reading our manifest
        // and config), and a second `cosign sign` with the same key adds nothing, as ours does not.
        const ours = await signArtifact({ ...client, url: reg.url("c/policies"), digest: pushed.digest, key: keys.openssl.signing! });
        assert.equal(ours.signatures, 1);
        await cosignSign();
        await cosignSign();
        const found = await readSignatures({ ...client, url: reg.url("c/policies"), digest: pushed.digest });
        assert.equal(found.layers.length, 2);
        await bothVerify("c/policies", path.join(tmp, "cosign.pub"), "verified");
        await bothVerify("c/policies", keys.openssl.pub, "verified");
        // Signing again with our key keeps cosign's signature and writes nothing.
        assert.equal((await signArtifact({ ...client, url: reg.url("c/policies"), digest: pushed.digest, key: keys.openssl.signing! })).unchanged, true);
        await bothVerify("c/policies", keys.other.pub, "other-key", /no matching signatures/);
    });

    it("cosign generate-key-pair key: we sign with it, cosign verify accepts", async () => {
        const keyFile = path.join(tmp, "cosign.key");
        if (!fs.existsSync(keyFile)) {
            const gen = await cosign.run(["generate-key-pair", "--output-key-prefix", path.join(tmp, "cosign")], { COSIGN_PASSWORD });
            assert.equal(gen.code, 0, gen.stderr);
        }
        const key = await loadSigningKey(fs.readFileSync(keyFile), COSIGN_PASSWORD);
        assert.equal(key.publicKey.pem, fs.readFileSync(path.join(tmp, "cosign.pub"), "utf8"));
        const pushed = await push("d/policies", sample);
        await signArtifact({ ...client, url: reg.url("d/policies"), digest: pushed.digest, key });
        await bothVerify("d/policies", path.join(tmp, "cosign.pub"), "verified");
        await bothVerify("d/policies", keys.other.pub, "other-key", /no matching signatures/);
    });

    it("replace drops other signatures; an unsigned tag is unsigned to both", async () => {
        const url = reg.url("c/policies");
        const digest = (await resolveTag({ ...client, url, tag: "v1" }))!;
        const res = await signArtifact({ ...client, url, digest, key: keys.other.signing!, replace: true });
        assert.equal(res.signatures, 1);
        await bothVerify("c/policies", keys.other.pub, "verified");
        await bothVerify("c/policies", keys.openssl.pub, "other-key");

        await push("e/policies", sample);
        await bothVerify("e/policies", keys.openssl.pub, "unsigned", /no signatures found/);
    });

    it("an unreadable signature tag (an image index) stops signing, unless replace overwrites it", async () => {
        const pushed = await push("f/policies", sample);
        const index = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [] });
        const put = await fetch(`${reg.baseUrl}/v2/f/policies/manifests/${signatureTag(pushed.digest)}`, {
            method: "PUT",
            headers: { "Content-Type": "application/vnd.oci.image.index.v1+json" },
            body: index,
        });
        assert.equal(put.status, 201, await put.text());
        const sign = (replace: boolean) => signArtifact({ ...client, url: reg.url("f/policies"), digest: pushed.digest, key: keys.openssl.signing!, replace });
        await assert.rejects(sign(false), /is an image index/);
        assert.equal((await sign(true)).signatures, 1);
        await bothVerify("f/policies", keys.openssl.pub, "verified");
    });
});

describe("signing: cosign verify over TLS with a private CA and Basic auth", () => {
    let reg: RegistryHandle;
    let cosign: Cosign;
    let sample: BuiltArtifact;
    const tmp = tempDir("signing-cosign-tls");

    before(async () => {
        [reg, cosign] = await Promise.all([startRegistry({ mode: "basic-tls" }), ensureCosign()]);
        sample = await buildSample();
    });
    after(async () => {
        await reg?.stop();
        cosign?.cleanup();
        if (sample) fs.rmSync(path.dirname(sample.layer.path), { recursive: true, force: true });
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("signed through the authenticated TLS registry; cosign (--registry-cacert, credentials) and we agree", async () => {
        const client: ClientOptions = { credentials: { username: reg.username!, password: reg.password! }, caFile: reg.caFile, retry: { baseDelayMs: 20 } };
        const mine = await opensslKeyPair(tmp, "mine");
        const other = await opensslKeyPair(tmp, "other");
        const pushed = await pushImage({ ...client, url: reg.url("policies"), tag: "v1", manifest: sample.manifest, config: sample.config, layers: layersOf(sample) });
        await signArtifact({ ...client, url: reg.url("policies"), digest: pushed.digest, key: await loadSigningKey(fs.readFileSync(mine.key)) });
        for (const [pub, expected] of [[mine.pub, "verified"], [other.pub, "other-key"]] as const) {
            const ours = await verifyArtifact({ ...client, url: reg.url("policies"), tag: "v1", publicKeys: loadPublicKeys(fs.readFileSync(pub)) });
            const theirs = await cosign.run(["verify", "--key", pub, ...COSIGN_VERIFY_OFFLINE_FLAGS, ...cosignRegistryFlags(reg), `${reg.host}/policies:v1`]);
            assert.equal(ours.status, expected, ours.message);
            assert.equal(theirs.code === 0, expected === "verified", theirs.stderr);
        }
    });
});
