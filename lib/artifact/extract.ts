/**
 * Safe extraction of an artifact layer (the OCI pull side). A layer comes from a registry, so it is
 * untrusted: only regular files and directories are accepted, every name must stay inside the
 * destination, nothing is written through a symlink, and size/entry limits stop decompression
 * bombs. Modes from the archive are not trusted either (files 0644, directories 0755).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ReadEntry } from "tar";

/** node-tar takes tens of milliseconds to load and only pull/diff extract: load it on first use. */
const loadTar = (): typeof import("tar") => require("tar") as typeof import("tar");

export interface ExtractOptions {
    /** Maximum total bytes of file content (default 512 MiB). */
    maxTotalSize?: number;
    /** Maximum number of entries (default 100000). */
    maxEntries?: number;
}

export class LayerExtractError extends Error {
    constructor(
        readonly entry: string | undefined,
        message: string,
    ) {
        super(entry === undefined ? message : `layer entry ${JSON.stringify(entry)}: ${message}`);
        this.name = "LayerExtractError";
    }
}

/**
 * Validates a tar entry name and returns its normalised relative path ("" for the root entry).
 * Throws for absolute paths, `..` components, backslashes, drive letters and NUL bytes.
 */
export function safeEntryPath(name: string): string {
    if (name.includes("\0")) throw new LayerExtractError(name, "name contains a NUL byte");
    if (name.includes("\\")) throw new LayerExtractError(name, "name contains a backslash");
    if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) throw new LayerExtractError(name, "absolute path");
    const parts = name.split("/").filter((p) => p !== "" && p !== ".");
    if (parts.includes("..")) throw new LayerExtractError(name, "path escapes the destination ('..')");
    return parts.join("/");
}

/**
 * Extracts a tar+gzip (or plain tar) layer into `destDir`, which is created if missing and should be
 * empty. On any error, everything this call created is removed again and the error is thrown.
 *
 * @returns the extracted file paths (relative, forward slashes) in archive order
 */
export async function extractLayer(tgzPath: string, destDir: string, opts: ExtractOptions = {}): Promise<string[]> {
    const maxTotal = opts.maxTotalSize ?? 512 * 1024 * 1024;
    const maxEntries = opts.maxEntries ?? 100_000;
    fs.mkdirSync(destDir, { recursive: true });
    const root = fs.realpathSync(destDir);
    const created: string[] = [];
    const files: string[] = [];
    let total = 0;
    let count = 0;
    let failure: Error | undefined;

    /** Creates each missing directory of `rel` (relative), refusing anything that is not a real directory. */
    const ensureDir = (rel: string) => {
        let cur = root;
        for (const part of rel.split("/").filter(Boolean)) {
            cur = path.join(cur, part);
            let st: fs.Stats | undefined;
            try {
                st = fs.lstatSync(cur);
            } catch {
                st = undefined;
            }
            if (!st) {
                fs.mkdirSync(cur);
                fs.chmodSync(cur, 0o755); // not subject to the umask
                created.push(cur);
            } else if (!st.isDirectory()) {
                throw new LayerExtractError(rel, `${path.relative(root, cur)} exists and is not a directory`);
            }
        }
    };

    const { Parser } = loadTar();
    const parser = new Parser({
        strict: true,
        onReadEntry: (entry: ReadEntry) => {
            if (failure) {
                entry.resume();
                return;
            }
            try {
                if (++count > maxEntries) throw new LayerExtractError(undefined, `more than ${maxEntries} entries`);
                const rel = safeEntryPath(entry.path);
                if (entry.type === "Directory") {
                    ensureDir(rel);
                    entry.resume();
                    return;
                }
                if (entry.type !== "File" && entry.type !== "OldFile" && entry.type !== "ContiguousFile") {
                    throw new LayerExtractError(entry.path, `${entry.type} entries are not allowed (only regular files and directories)`);
                }
                if (rel === "") throw new LayerExtractError(entry.path, "a file cannot be the root");
                total += entry.size ?? 0;
                if (total > maxTotal) throw new LayerExtractError(entry.path, `layer content exceeds ${maxTotal} bytes`);
                ensureDir(path.posix.dirname(rel) === "." ? "" : path.posix.dirname(rel));
                const abs = path.join(root, ...rel.split("/"));
                let fd: number;
                try {
                    fd = fs.openSync(abs, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), 0o644);
                } catch (e) {
                    const code = (e as NodeJS.ErrnoException).code;
                    throw new LayerExtractError(entry.path, code === "EEXIST" ? "duplicate entry (or the destination already has this file)" : `cannot create file (${code})`);
                }
                created.push(abs);
                fs.fchmodSync(fd, 0o644);
                files.push(rel);
                let written = 0;
                entry.on("data", (chunk: Buffer) => {
                    if (failure) return;
                    written += chunk.length;
                    fs.writeSync(fd, chunk);
                });
                entry.on("end", () => {
                    fs.closeSync(fd);
                    if (!failure && written !== entry.size) fail(new LayerExtractError(entry.path, "truncated content"));
                });
            } catch (e) {
                fail(e as Error);
                entry.resume();
            }
        },
    });

    const fail = (e: Error) => {
        if (failure) return;
        failure = e;
        parser.abort(e);
    };

    try {
        await new Promise<void>((resolve, reject) => {
            parser.on("end", () => resolve());
            parser.on("error", (e: Error) => reject(failure ?? e));
            parser.on("abort", (e: Error) => reject(failure ?? e));
            const input = fs.createReadStream(tgzPath);
            input.on("error", reject);
            input.pipe(parser as unknown as NodeJS.WritableStream);
        });
        if (failure) throw failure;
    } catch (e) {
        for (const p of created.reverse()) fs.rmSync(p, { recursive: true, force: true });
        if (e instanceof LayerExtractError) throw e;
        throw new LayerExtractError(undefined, `not a valid tar+gzip layer: ${(e as Error).message}`);
    }
    return files;
}
