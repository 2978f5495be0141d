/**
 * A validation cache: what validating one file produced, keyed by the file's content digest, so a
 * push after editing one file of a large tree parses and validates that file only.
 *
 * Only files that validated without a problem are cached: a file with a problem is read again on
 * every run, so its report is always current and the cache never changes what a user is told.
 * Entries are also keyed by the validator's own version (a digest of this module directory's
 * code), so a new release never trusts what an older one concluded. One index file per policy
 * directory, rewritten with the entries of the last run only, so it cannot grow without bound;
 * the index of a directory not loaded for STALE_DAYS is removed at the next save.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { KustomizationDoc } from "./kinds";
import type { Policy } from "./types";

/** What validating one file produced, without its path (the key holds it). */
export type CachedFile =
    | { empty: true }
    | { empty?: false; policies: Omit<Policy, "file">[]; kustomizations: Omit<KustomizationDoc, "file">[] };

const FORMAT = 1;
const STALE_DAYS = 30;

let validatorVersionMemo: string | undefined;

/**
 * The validator's version: a digest of the code of lib/policies as it runs (compiled JavaScript,
 * or TypeScript under ts-node), so any change to the rules invalidates every entry.
 */
export function validatorVersion(): string {
    if (validatorVersionMemo) return validatorVersionMemo;
    const hash = createHash("sha256").update(`format ${FORMAT}\n`);
    for (const name of fs.readdirSync(__dirname).filter((n) => /\.(js|ts)$/.test(n) && !n.endsWith(".d.ts")).sort()) {
        hash.update(`${name}\n`).update(fs.readFileSync(path.join(__dirname, name)));
    }
    validatorVersionMemo = hash.digest("hex").slice(0, 16);
    return validatorVersionMemo;
}

/** The user cache directory: POLICY_STACK_CACHE_DIR, else XDG_CACHE_HOME or ~/.cache, under policy-stack/. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
    if (env.POLICY_STACK_CACHE_DIR) return path.join(env.POLICY_STACK_CACHE_DIR, "validation");
    return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "policy-stack", "validation");
}

/** The validation results of one policy directory, read at the start of a load and saved at its end. */
export class ValidationCache {
    private readonly previous: Map<string, CachedFile>;
    private readonly current = new Map<string, CachedFile>();
    private hits = 0;

    private constructor(private readonly file: string, previous: Map<string, CachedFile>) {
        this.previous = previous;
    }

    /**
     * Opens the cache of the policy directory `root` (a real path) under `dir`. An unreadable or
     * corrupt index is an empty cache: the cache only ever saves work, it never fails a load.
     */
    static open(root: string, dir: string = defaultCacheDir()): ValidationCache {
        const id = createHash("sha256").update(`${validatorVersion()}\n${root}`).digest("hex").slice(0, 32);
        const file = path.join(dir, `${id}.json`);
        let previous = new Map<string, CachedFile>();
        try {
            const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as { version?: string; entries?: Record<string, CachedFile> };
            if (parsed.version === validatorVersion() && parsed.entries && typeof parsed.entries === "object") {
                previous = new Map(Object.entries(parsed.entries));
            }
        } catch {
            // no index yet, or one this version cannot read: start empty
        }
        return new ValidationCache(file, previous);
    }

    /** The key of a file: its path in the tree, its content digest and the limits it was checked with. */
    static key(rel: string, sha256: string, limits: string): string {
        return `${rel}\0${sha256}\0${limits}`;
    }

    get(key: string): CachedFile | undefined {
        const entry = this.previous.get(key);
        if (entry) {
            this.hits++;
            this.current.set(key, entry);
        }
        return entry;
    }

    set(key: string, entry: CachedFile): void {
        this.current.set(key, entry);
    }

    /** How many files this load took from the cache. */
    get hitCount(): number {
        return this.hits;
    }

    /**
     * Writes the entries of this load (and only those) when they differ from what was read:
     * atomically, so a concurrent load reads the old index or the new one, never half of one.
     * A failure to write is ignored: the next load validates again.
     */
    save(): void {
        if (this.current.size === this.previous.size && this.hits === this.current.size) return;
        const tmp = `${this.file}.${process.pid}.tmp`;
        try {
            fs.mkdirSync(path.dirname(this.file), { recursive: true });
            fs.writeFileSync(tmp, JSON.stringify({ version: validatorVersion(), entries: Object.fromEntries(this.current) }));
            fs.renameSync(tmp, this.file);
            removeStale(path.dirname(this.file));
        } catch {
            fs.rmSync(tmp, { force: true });
        }
    }
}

/** Removes the indexes (and leftover temporary files) of directories not loaded for STALE_DAYS. */
function removeStale(dir: string): void {
    const cutoff = Date.now() - STALE_DAYS * 24 * 3600 * 1000;
    for (const name of fs.readdirSync(dir)) {
        const file = path.join(dir, name);
        try {
            if (fs.statSync(file).mtimeMs < cutoff) fs.rmSync(file, { force: true });
        } catch {
            // removed meanwhile by another load
        }
    }
}
