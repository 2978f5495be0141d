/**
 * PEM blocks (RFC 7468): the type label and the decoded body of each block in a text. Used for
 * cosign's private keys (whose body is not DER but a JSON envelope, so Node cannot read them) and
 * to split a text holding several public keys.
 */
import { SigningError } from "./errors";

/** One `-----BEGIN <type>-----` … `-----END <type>-----` block. */
export interface PemBlock {
    /** The label, e.g. `PUBLIC KEY`, `ENCRYPTED SIGSTORE PRIVATE KEY`. */
    type: string;
    /** The block as written (BEGIN to END line), for Node's PEM readers. */
    text: string;
    /** Header lines before the body (`Proc-Type: …`), if any. */
    headers: string[];
    /** The base64 body, decoded. */
    body: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
const BASE64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Every PEM block in `text`, in order. Throws a `key-format` SigningError for a block whose END
 * label differs from its BEGIN label or whose body is not base64; the message names the block by
 * its position and type only.
 */
export function parsePemBlocks(text: string): PemBlock[] {
    const blocks: PemBlock[] = [];
    for (const m of text.matchAll(BLOCK)) {
        const [whole, type, inner, endType] = m;
        const where = `PEM block ${blocks.length + 1} (${type})`;
        if (type !== endType) throw new SigningError("key-format", `${where} ends with a different label (${endType})`);
        const lines = inner.split(/\r?\n/).map((l) => l.trim());
        const headers: string[] = [];
        while (lines.length > 0 && lines[0].includes(":")) headers.push(lines.shift()!);
        if (headers.length > 0 && lines[0] === "") lines.shift();
        const base64 = lines.join("");
        if (!BASE64_LINE.test(base64) || base64.length % 4 !== 0 || base64.length === 0) {
            throw new SigningError("key-format", `${where} has a body that is not base64`);
        }
        blocks.push({ type, text: whole, headers, body: Buffer.from(base64, "base64") });
    }
    return blocks;
}
