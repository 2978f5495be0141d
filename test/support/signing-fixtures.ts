/**
 * Key material for the signing tests: fresh keys in each PEM shape lib/signing reads, and the
 * fixtures made with the real cosign (test/fixtures/signing/README.md).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { repoRoot } from "../harness/paths";

export const signingFixturesDir = path.join(repoRoot, "test", "fixtures", "signing");

/** The fixture cosign key pair, its password, and what real cosign wrote when it signed with it. */
export const cosignFixture = {
    key: fs.readFileSync(path.join(signingFixturesDir, "cosign.key"), "utf8"),
    pub: fs.readFileSync(path.join(signingFixturesDir, "cosign.pub"), "utf8"),
    password: "fixture-password-not-a-secret",
    payload: fs.readFileSync(path.join(signingFixturesDir, "cosign-payload.json")),
    manifest: fs.readFileSync(path.join(signingFixturesDir, "cosign-sig-manifest.json")),
    config: fs.readFileSync(path.join(signingFixturesDir, "cosign-sig-config.json")),
    /** What the payload names. */
    digest: "sha256:7a0c019e3551c14a6e086183878ade9b6048262782f610f47766697f86f594b1",
    dockerReference: "127.0.0.1:5931/policies",
};

/** The base64 signature cosign stored in the fixture manifest. */
export function cosignFixtureSignature(): string {
    const m = JSON.parse(cosignFixture.manifest.toString()) as { layers: { annotations: Record<string, string> }[] };
    return m.layers[0].annotations["dev.cosignproject.cosign/signature"];
}

/** A fresh EC key pair on `curve` (P-256 unless given). */
export function ecKeyPair(curve = "P-256"): crypto.KeyPairKeyObjectResult {
    return crypto.generateKeyPairSync("ec", { namedCurve: curve });
}

/** Unencrypted PKCS#8 PEM, as `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` writes. */
export function pkcs8Pem(key: crypto.KeyObject): string {
    return key.export({ type: "pkcs8", format: "pem" }).toString();
}

/** SEC1 `EC PRIVATE KEY` PEM (`openssl ecparam -genkey -noout`). */
export function sec1Pem(key: crypto.KeyObject): string {
    return key.export({ type: "sec1", format: "pem" }).toString();
}

/** Password-protected PKCS#8 (`openssl genpkey … -aes-256-cbc -pass pass:…`). */
export function encryptedPkcs8Pem(key: crypto.KeyObject, password: string): string {
    return key.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: password }).toString();
}

/** SPKI public key PEM (cosign.pub's format). */
export function spkiPem(key: crypto.KeyObject): string {
    return crypto.createPublicKey(key).export({ type: "spki", format: "pem" }).toString();
}

/** A cosign-style key PEM around `envelope` (any bytes), with the given label. */
export function cosignPem(envelope: string | Buffer, label = "ENCRYPTED SIGSTORE PRIVATE KEY"): string {
    const b64 = Buffer.from(envelope).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
    return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** The JSON envelope inside the fixture cosign key. */
export function cosignFixtureEnvelope(): Record<string, any> {
    const body = cosignFixture.key.split("\n").filter((l) => l && !l.startsWith("-----")).join("");
    return JSON.parse(Buffer.from(body, "base64").toString("utf8"));
}
