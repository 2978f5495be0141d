/**
 * Secrets-scan needles for a signing key (extends test/support/secrets-scan.ts, which knows
 * registry passwords): the key's password, and its material in each form it could leak in: every
 * line of the PEM body, the body as one string, a cosign key's envelope fields (the body decodes
 * to JSON whose salt and ciphertext a parser error could quote), and, when the key itself is at
 * hand, the private scalar (JWK base64url and hex) and the unencrypted PKCS#8 DER (base64).
 */
import type * as crypto from "node:crypto";

import type { SecretSpec } from "./secrets-scan";

/** Shorter fragments would match by chance (a short last PEM line, say). */
const MIN_NEEDLE = 16;

/** The SecretSpec for `pem` protected by `password` (`privateKey`: the decoded key, for its raw forms). */
export function signingKeySecretSpec(pem: string, password: string, privateKey?: crypto.KeyObject): SecretSpec {
    const extra: string[] = [];
    const body = pem
        .split(/\r?\n/)
        .filter((l) => l.length > 0 && !l.startsWith("-----") && !l.includes(":"));
    extra.push(body.join(""));
    for (const line of body) if (line.length >= MIN_NEEDLE) extra.push(line);
    const decoded = Buffer.from(body.join(""), "base64").toString("utf8");
    for (const m of decoded.matchAll(/"(salt|nonce|ciphertext)"\s*:\s*"([^"]+)"/g)) extra.push(m[2]);
    if (privateKey) {
        const jwk = privateKey.export({ format: "jwk" });
        if (jwk.d) {
            extra.push(jwk.d);
            extra.push(Buffer.from(jwk.d, "base64url").toString("hex"));
        }
        extra.push(privateKey.export({ type: "pkcs8", format: "der" }).toString("base64"));
    }
    return { password, extra: extra.filter((e, i) => e.length >= MIN_NEEDLE && extra.indexOf(e) === i) };
}
