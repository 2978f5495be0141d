/**
 * A tar writer that produces the same bytes as Go's archive/tar does for Flux's artifact builder
 * (fluxcd/pkg `tar.Tar`, used by `flux push artifact`): USTAR headers, octal fields written as
 * zero-padded digits plus NUL, uid/gid 0, empty uname/gname, mtime 0, entries in a sorted
 * depth-first walk with a "." root entry, directories named without a trailing slash, two zero
 * blocks at the end and no record padding. Names USTAR cannot hold go into a PAX header exactly as
 * Go writes one. Matching Go byte for byte makes our uncompressed layer (the OCI diff_id) equal to
 * Flux's for the same tree with LF line endings; the gzip stream differs only because the deflaters
 * differ. One deliberate difference: text files ship with CRLF turned into LF (eol.ts, as git's
 * `text=auto` does), where Flux archives the checkout's bytes, so a CRLF checkout builds the same
 * layer as an LF one.
 *
 * We write headers ourselves instead of using node-tar's Pack because node-tar formats numeric
 * fields differently (space + NUL terminators, omitted fields) and always stats the file system,
 * which we need to control for reproducibility.
 */
import * as fs from "node:fs";
import { sha256Digest, sha256Hasher } from "../oci/digest";
import { countCrlf, CrlfToLfStream, FIRST_FEW_BYTES, looksBinary, normaliseText } from "./eol";

export const BLOCK = 512;
const NAME_SIZE = 100;
const PREFIX_SIZE = 155;

/** Tar type flags we write (and a few we only craft in tests). */
export const TypeFlag = {
    File: "0",
    Link: "1",
    Symlink: "2",
    Char: "3",
    Block: "4",
    Dir: "5",
    Fifo: "6",
    PaxHeader: "x",
} as const;

export interface RawHeader {
    name: string;
    typeflag: string;
    mode: number;
    size: number;
    linkname?: string;
    uid?: number;
    gid?: number;
    mtime?: number;
}

function isAscii(s: string): boolean {
    return /^[\x01-\x7f]*$/.test(s);
}

function toAscii(s: string): string {
    return s.replace(/[^\x01-\x7f]/gu, "");
}

/** Go's formatString: copy (truncating) and NUL-terminate when there is room. */
function putString(b: Buffer, off: number, size: number, s: string): void {
    const bytes = Buffer.from(s, "utf8");
    bytes.copy(b, off, 0, Math.min(bytes.length, size));
}

/** Go's formatOctal: zero-padded to size-1 digits, then NUL. */
function putOctal(b: Buffer, off: number, size: number, n: number): void {
    let s = Math.trunc(n).toString(8);
    if (s.length > size - 1) throw new Error(`tar: value ${n} does not fit in a ${size}-byte field`);
    s = s.padStart(size - 1, "0");
    b.write(s, off, "ascii");
}

/** Go's splitUSTARPath. */
export function splitUstarPath(name: string): { prefix: string; suffix: string } | undefined {
    let length = name.length;
    if (length <= NAME_SIZE || !isAscii(name)) return undefined;
    if (length > PREFIX_SIZE + 1) length = PREFIX_SIZE + 1;
    else if (name[length - 1] === "/") length--;
    const i = name.lastIndexOf("/", length - 1);
    const nlen = name.length - i - 1;
    const plen = i;
    if (i <= 0 || nlen > NAME_SIZE || nlen === 0 || plen > PREFIX_SIZE) return undefined;
    return { prefix: name.slice(0, i), suffix: name.slice(i + 1) };
}

function finishBlock(b: Buffer): Buffer {
    b.write("ustar\0", 257, "binary");
    b.write("00", 263, "ascii");
    // Checksum: sum of all bytes with the checksum field counted as spaces.
    b.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += b[i];
    b.fill(0, 148, 156);
    putOctal(b, 148, 7, sum);
    b[155] = 0x20;
    return b;
}

function v7Plus(h: RawHeader, name: string): Buffer {
    const b = Buffer.alloc(BLOCK);
    putString(b, 0, NAME_SIZE, name);
    putOctal(b, 100, 8, h.mode);
    putOctal(b, 108, 8, h.uid ?? 0);
    putOctal(b, 116, 8, h.gid ?? 0);
    putOctal(b, 124, 12, h.size);
    putOctal(b, 136, 12, h.mtime ?? 0);
    b.write(h.typeflag, 156, "ascii");
    putString(b, 157, 100, h.linkname ?? "");
    // uname/gname stay empty (all NUL); devmajor/devminor are formatted as zeros like Go does.
    putOctal(b, 329, 8, 0);
    putOctal(b, 337, 8, 0);
    return b;
}

/** Go's formatPAXRecord. */
function paxRecord(k: string, v: string): string {
    const body = ` ${k}=${v}\n`;
    const bodyLen = Buffer.byteLength(body);
    let size = bodyLen + String(bodyLen).length;
    if (String(size).length + bodyLen !== size) size = String(size).length + bodyLen;
    return `${size}${body}`;
}

function pad(n: number): Buffer {
    const r = n % BLOCK;
    return r === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - r);
}

/**
 * Encodes the header block(s) for one entry, choosing USTAR when possible and PAX otherwise, as Go's
 * tar.Writer does for a header with an unspecified format.
 */
export function encodeHeader(h: RawHeader): Buffer {
    const needPax = !isAscii(h.name) || Buffer.byteLength(h.name) > NAME_SIZE || (h.linkname !== undefined && (!isAscii(h.linkname) || h.linkname.length > 100));
    if (!needPax) return finishBlock(v7Plus(h, h.name));
    const split = splitUstarPath(h.name);
    const linkOk = h.linkname === undefined || (isAscii(h.linkname) && h.linkname.length <= 100);
    if (split && linkOk) {
        const b = v7Plus(h, split.suffix);
        putString(b, 345, PREFIX_SIZE, split.prefix);
        return finishBlock(b);
    }
    const recs: Record<string, string> = {};
    if (!isAscii(h.name) || Buffer.byteLength(h.name) > NAME_SIZE) recs.path = h.name;
    if (h.linkname !== undefined && !linkOk) recs.linkpath = h.linkname;
    const data = Object.keys(recs)
        .sort()
        .map((k) => paxRecord(k, recs[k]))
        .join("");
    const dataBuf = Buffer.from(data, "utf8");
    const slash = h.name.lastIndexOf("/");
    const dir = slash >= 0 ? h.name.slice(0, slash + 1) : "";
    const file = slash >= 0 ? h.name.slice(slash + 1) : h.name;
    // path.Join(dir, "PaxHeaders.0", file), then Go's best-effort ASCII/100-char/trailing-slash trim.
    let paxName = [dir.replace(/\/+$/, ""), "PaxHeaders.0", file].filter((x) => x !== "").join("/");
    paxName = toAscii(paxName);
    paxName = Buffer.from(paxName).subarray(0, NAME_SIZE).toString("latin1").replace(/\/+$/, "");
    const paxHdr = Buffer.alloc(BLOCK);
    putString(paxHdr, 0, NAME_SIZE, paxName);
    putOctal(paxHdr, 100, 8, 0);
    putOctal(paxHdr, 108, 8, 0);
    putOctal(paxHdr, 116, 8, 0);
    putOctal(paxHdr, 124, 12, dataBuf.length);
    putOctal(paxHdr, 136, 12, 0);
    paxHdr.write(TypeFlag.PaxHeader, 156, "ascii");
    finishBlock(paxHdr);
    const main = v7Plus({ ...h, linkname: h.linkname === undefined ? undefined : toAscii(h.linkname) }, toAscii(h.name));
    return Buffer.concat([paxHdr, dataBuf, pad(dataBuf.length), finishBlock(main)]);
}

/** One entry of a layer. */
export interface LayerEntry {
    /** Relative name, forward slashes, "." for the root, no trailing slash. */
    name: string;
    type: "dir" | "file";
    /** For files: where the bytes come from. */
    absPath?: string;
    /** For files: expected size in bytes on disk (before line-ending normalisation). */
    size?: number;
    /** For files: expected "sha256:<hex>" of the bytes on disk (checked while streaming). */
    sha256?: string;
}

/** Normalised permissions: Flux copies the on-disk mode, which varies with umask; we pin it. */
export const FILE_MODE = 0o644;
export const DIR_MODE = 0o755;

/** Files up to this size are read with one synchronous read; larger ones are streamed in chunks. */
export const SMALL_FILE_BYTES = 1 << 20;
/** Output chunk size: small headers and files are coalesced so the gzip stage sees few, large writes. */
export const TAR_CHUNK_BYTES = 256 * 1024;

/**
 * Streams a tar archive of `entries` (already in archive order). Large files are read in chunks,
 * never whole, and every file must still match the size and digest recorded at validation time.
 * Text files are archived with LF line endings ({@link normaliseText}), so an entry's size in the
 * archive can be smaller than `size`, which is the file's size on disk.
 *
 * Performance: a policy file is typically 1-3 KiB. Reading each one through a ReadStream costs
 * open/read/close round trips through libuv's thread pool, one after the other, and emitting
 * header, content and padding as separate chunks makes the gzip stream run one thread-pool job per
 * 512-byte piece. For thousands of files both dominated the build, so small files are read with a
 * single `readFileSync` and the output is coalesced into chunks of about {@link TAR_CHUNK_BYTES}.
 * Memory stays bounded by the chunk size plus one small file.
 */
export async function* tarEntries(entries: LayerEntry[]): AsyncGenerator<Buffer> {
    let parts: Buffer[] = [];
    let pending = 0;
    const push = (b: Buffer) => {
        parts.push(b);
        pending += b.length;
    };
    const take = (): Buffer => {
        const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts, pending);
        parts = [];
        pending = 0;
        return out;
    };
    const changed = (e: LayerEntry, n: number) =>
        new Error(`${e.name} changed since it was validated (size ${e.size} → ${n} bytes); load the policy directory again`);
    const checkDigest = (e: LayerEntry, digest: string) => {
        if (e.sha256 && digest !== e.sha256) {
            throw new Error(`${e.name} changed since it was validated (content differs); load the policy directory again`);
        }
    };
    for (const e of entries) {
        if (e.type === "dir") {
            push(encodeHeader({ name: e.name, typeflag: TypeFlag.Dir, mode: DIR_MODE, size: 0 }));
        } else {
            if (!e.absPath || e.size === undefined) throw new Error(`tar: file entry ${e.name} needs absPath and size`);
            if (e.size <= SMALL_FILE_BYTES) {
                // One read of at most size+1 bytes: enough to notice a file that grew.
                const buf = Buffer.allocUnsafe(e.size + 1);
                const fd = fs.openSync(e.absPath, "r");
                let n = 0;
                try {
                    for (;;) {
                        const r = fs.readSync(fd, buf, n, buf.length - n, null);
                        if (r === 0) break;
                        n += r;
                        if (n === buf.length) break;
                    }
                } finally {
                    fs.closeSync(fd);
                }
                if (n !== e.size) throw changed(e, n);
                const raw = buf.subarray(0, n);
                if (e.sha256) checkDigest(e, sha256Digest(raw));
                const content = normaliseText(raw);
                push(encodeHeader({ name: e.name, typeflag: TypeFlag.File, mode: FILE_MODE, size: content.length }));
                push(content);
                const p = pad(content.length);
                if (p.length) push(p);
            } else {
                // The header needs the shipped size before the content: a first pass checks the file
                // and counts its CRLFs, the second streams it (re-checked: it must not change between).
                const first = await scanLargeFile(e);
                if (first.n !== e.size) throw changed(e, first.n);
                checkDigest(e, first.digest);
                const size = first.text ? e.size - first.crlf : e.size;
                push(encodeHeader({ name: e.name, typeflag: TypeFlag.File, mode: FILE_MODE, size }));
                yield take();
                const eol = first.text ? new CrlfToLfStream() : undefined;
                const hash = sha256Hasher();
                let n = 0;
                let written = 0;
                for await (const chunk of fs.createReadStream(e.absPath, { highWaterMark: 64 * 1024 })) {
                    const buf = chunk as Buffer;
                    n += buf.length;
                    if (n > e.size) break;
                    hash.update(buf);
                    const out = eol ? eol.push(buf) : buf;
                    written += out.length;
                    if (written > size) break;
                    if (out.length) yield out;
                }
                const tail = eol?.end();
                if (tail?.length) {
                    written += tail.length;
                    if (written <= size) yield tail;
                }
                if (n !== e.size) throw changed(e, n);
                const second = hash.digest();
                checkDigest(e, second);
                if (written !== size || second !== first.digest) {
                    throw new Error(`${e.name} changed while it was being archived; load the policy directory again`);
                }
                const p = pad(size);
                if (p.length) push(p);
            }
        }
        if (pending >= TAR_CHUNK_BYTES) yield take();
    }
    push(Buffer.alloc(2 * BLOCK));
    yield take();
}

/**
 * First pass over a large file: its size, raw digest, whether git would call it text (no NUL in
 * the first {@link FIRST_FEW_BYTES} bytes) and how many CRLF pairs it holds, read in chunks.
 */
async function scanLargeFile(e: LayerEntry): Promise<{ n: number; digest: string; text: boolean; crlf: number }> {
    const hash = sha256Hasher();
    let n = 0;
    let crlf = 0;
    let binary = false;
    let endsWithCr = false;
    for await (const chunk of fs.createReadStream(e.absPath!, { highWaterMark: 64 * 1024 })) {
        const buf = chunk as Buffer;
        if (n < FIRST_FEW_BYTES && looksBinary(buf.subarray(0, FIRST_FEW_BYTES - n))) binary = true;
        if (endsWithCr && buf[0] === 0x0a) crlf++;
        crlf += countCrlf(buf);
        endsWithCr = buf.length > 0 && buf[buf.length - 1] === 0x0d;
        n += buf.length;
        hash.update(buf);
        if (n > e.size!) break;
    }
    return { n, digest: hash.digest(), text: !binary, crlf };
}

/**
 * Archive order for a set of shipped file paths: the "." root, then a sorted depth-first walk in
 * which each directory appears right before its contents (what Go's filepath.WalkDir yields).
 * `paths` must already be sorted with `comparePaths`.
 */
export function layerEntriesFor(files: { path: string; absPath: string; size: number; sha256?: string }[]): LayerEntry[] {
    const out: LayerEntry[] = [{ name: ".", type: "dir" }];
    const dirs = new Set<string>();
    for (const f of files) {
        const parts = f.path.split("/");
        for (let i = 1; i < parts.length; i++) {
            const d = parts.slice(0, i).join("/");
            if (!dirs.has(d)) {
                dirs.add(d);
                out.push({ name: d, type: "dir" });
            }
        }
        out.push({ name: f.path, type: "file", absPath: f.absPath, size: f.size, sha256: f.sha256 });
    }
    return out;
}
