/**
 * Line-ending normalisation for shipped files, so that an LF checkout and a CRLF checkout (Windows,
 * `core.autocrlf=true`) of the same commit build the same layer. Like git's `text=auto`, with git's
 * quick binary test (`buffer_is_binary`): a file is text unless its first {@link FIRST_FEW_BYTES}
 * bytes hold a NUL byte; in a text file every CRLF becomes LF and a CR not followed by LF stays; a
 * binary file is left byte for byte.
 *
 * Git's own conversion is stricter about what it calls text (a lone CR or many control characters
 * also make it leave a file alone). That does not change the digest argument: git's checkout only
 * turns LF into CRLF in files whose stored bytes hold no CR and no NUL, and removing every CRLF
 * from such a checkout gives back exactly the stored bytes.
 */

/** How many leading bytes decide text or binary (git's FIRST_FEW_BYTES). */
export const FIRST_FEW_BYTES = 8000;

const CR = 0x0d;
const LF = 0x0a;

/** Whether git would treat content starting with `head` as binary: a NUL byte in the first 8000 bytes. */
export function looksBinary(head: Buffer): boolean {
    return head.subarray(0, FIRST_FEW_BYTES).includes(0);
}

/** Number of CRLF pairs in `buf` (a CR that ends `buf` is not counted). */
export function countCrlf(buf: Buffer): number {
    let n = 0;
    for (let i = buf.indexOf(CR); i >= 0 && i < buf.length - 1; i = buf.indexOf(CR, i + 1)) if (buf[i + 1] === LF) n++;
    return n;
}

/** `buf` with every CRLF replaced by LF; `buf` itself when it has none. Lone CRs stay. */
export function crlfToLf(buf: Buffer): Buffer {
    const pairs = countCrlf(buf);
    if (pairs === 0) return buf;
    const out = Buffer.allocUnsafe(buf.length - pairs);
    let o = 0;
    let start = 0;
    for (let i = buf.indexOf(CR); i >= 0 && i < buf.length - 1; i = buf.indexOf(CR, i + 1)) {
        if (buf[i + 1] !== LF) continue;
        o += buf.copy(out, o, start, i);
        start = i + 1; // keep the LF, drop the CR
    }
    o += buf.copy(out, o, start);
    return out.subarray(0, o);
}

/** The bytes to ship for a whole file: {@link crlfToLf} for text, unchanged for binary. */
export function normaliseText(content: Buffer): Buffer {
    return looksBinary(content) ? content : crlfToLf(content);
}

/**
 * {@link crlfToLf} over a file read in chunks: a CR at the end of a chunk is held back until the
 * next chunk shows whether an LF follows.
 */
export class CrlfToLfStream {
    private heldCr = false;

    /** Normalised bytes for `chunk` (may hold back its last byte). */
    push(chunk: Buffer): Buffer {
        if (chunk.length === 0) return chunk;
        let input = chunk;
        if (this.heldCr) {
            input = Buffer.concat([Buffer.of(CR), chunk]);
            this.heldCr = false;
        }
        if (input[input.length - 1] === CR) {
            this.heldCr = true;
            input = input.subarray(0, input.length - 1);
        }
        return crlfToLf(input);
    }

    /** What is still held back at the end of the file (a final lone CR). */
    end(): Buffer {
        const out = this.heldCr ? Buffer.of(CR) : Buffer.alloc(0);
        this.heldCr = false;
        return out;
    }
}
