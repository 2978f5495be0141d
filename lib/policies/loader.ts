/**
 * Loads and validates a directory of Kyverno policies the way Flux would see it.
 *
 * What ships: every non-ignored `.yaml`/`.yml` file whose documents are all Kyverno policies, plus
 * `kustomization.yaml`. Other files (README.md, scripts, …) are skipped rather than rejected:
 * kustomize-controller only reads YAML, so shipping them would add bytes without meaning, and
 * rejecting them would make a README in the policy repo an error. Skipped files are reported in
 * `PolicySet.skipped`.
 */
import * as fsSync from "node:fs";
import type { Dirent } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { ValidationCache } from "./cache";
import { sha256Digest } from "../oci/digest";
import { PolicyLoadAggregateError, PolicyLoadError } from "./errors";
import { IgnoreMatcher, parseIgnoreFile, SOURCEIGNORE_FILE } from "./ignore";
import { classifyDocument, KUSTOMIZATION_FILES, type KustomizationDoc } from "./kinds";
import type { Policy, PolicyFile, PolicyInfo, PolicySet, SkippedFile } from "./types";
import { findInvalidUtf8, lineOfByteOffset, parseYamlDocuments } from "./yaml";

/** Default per-file size limit: 10 MiB. */
export const DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024;

export interface LoadPolicyOptions {
    /** Per-file size limit in bytes (default 10 MiB). */
    maxFileSize?: number;
    /** Limit on a document's node count after alias expansion (YAML bomb guard). */
    maxExpandedNodes?: number;
    /** Extra gitignore patterns, applied after Flux's defaults and .sourceignore files (highest priority). */
    ignore?: string[];
    /** Limit on the number of directory entries visited (guards against huge trees). Default 100000. */
    maxEntries?: number;
    /**
     * Reuse what earlier loads of this directory concluded about unchanged files (cache.ts): `true`
     * for the user cache directory, a directory path for another. Off by default: worth it for the
     * directory a user edits and pushes, not for a pulled artifact in a temporary directory.
     */
    cache?: boolean | string;
    /**
     * Keep each policy's parsed object (`Policy.document`, default true). `false` for callers that
     * only ship the files (`artifact build`): the parsed objects of a large tree are most of a load's
     * memory, and holding them all until the end makes the heap grow to hold them.
     */
    documents?: boolean;
}

const YAML_EXT = /\.ya?ml$/i;

/** Bytewise comparison of relative paths, component by component: the order a sorted directory walk (and Flux's tar) produces. */
export function comparePaths(a: string, b: string): number {
    const pa = a.split("/");
    const pb = b.split("/");
    for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
        const c = Buffer.compare(Buffer.from(pa[i]), Buffer.from(pb[i]));
        if (c !== 0) return c;
    }
    return pa.length - pb.length;
}

function policyKey(p: PolicyInfo): string {
    const group = p.apiVersion.includes("/") ? p.apiVersion.slice(0, p.apiVersion.indexOf("/")) : "";
    return `${p.kind}.${group}/${p.namespace ?? ""}/${p.name}`;
}

/** Sort order for policies: kind, namespace, name, then file. */
export function comparePolicies(a: PolicyInfo, b: PolicyInfo): number {
    const ka = [a.kind, a.namespace ?? "", a.name, a.file];
    const kb = [b.kind, b.namespace ?? "", b.name, b.file];
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
    return a.line - b.line;
}

function withoutDocument({ document: _document, ...info }: Policy): PolicyInfo {
    return info;
}

function isInside(root: string, p: string): boolean {
    return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/**
 * Loads, validates and indexes a policy directory.
 *
 * All problems are collected; if there is any, one {@link PolicyLoadAggregateError} is thrown whose
 * message is the grouped report of lib/policies/problems.ts (and whose `errors` holds the
 * {@link PolicyLoadError}s, each with its file, line and cause).
 *
 * @param dir the policy directory (absolute or relative to the process cwd)
 * @param opts limits, extra ignore patterns, the validation cache, whether to keep the parsed objects
 * @returns the files that ship (sorted in archive order) and the policies (sorted by kind/namespace/name)
 */
export async function loadPolicyDir(dir: string, opts?: LoadPolicyOptions & { documents?: true }): Promise<PolicySet>;
export async function loadPolicyDir(dir: string, opts?: LoadPolicyOptions): Promise<PolicySet<PolicyInfo>>;
export async function loadPolicyDir(dir: string, opts: LoadPolicyOptions = {}): Promise<PolicySet<PolicyInfo>> {
    const keepDocuments = opts.documents !== false;
    const maxFileSize = opts.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
    const maxEntries = opts.maxEntries ?? 100_000;
    const errors: PolicyLoadError[] = [];
    const files: PolicyFile[] = [];
    const skipped: SkippedFile[] = [];
    const policies: PolicyInfo[] = [];
    /** Files holding a valid policy, even when another document in them is refused. */
    const policyFiles: string[] = [];
    const kustomizations: KustomizationDoc[] = [];
    const shippedDirs = new Set<string>();
    let entriesSeen = 0;

    let root: string;
    try {
        root = await fs.realpath(path.resolve(dir));
        if (!(await fs.stat(root)).isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new PolicyLoadAggregateError(dir, [
            new PolicyLoadError(".", undefined, "directory", `policy directory ${code === "ENOENT" ? "does not exist" : "is not a readable directory"} (${code}); pass the directory that holds the policy YAML files`),
        ]);
    }

    const extra = opts.ignore?.length ? parseIgnoreFile(opts.ignore.join("\n"), "") : [];
    const cache = opts.cache ? ValidationCache.open(root, typeof opts.cache === "string" ? opts.cache : undefined) : undefined;
    const limits = String(opts.maxExpandedNodes ?? "");

    /** Records a file that ships, with what it holds. */
    const ship = (rel: string, abs: string, buf: Buffer, sha256: string, filePolicies: Policy[]) => {
        policies.push(...(keepDocuments ? filePolicies : filePolicies.map(withoutDocument)));
        files.push({ path: rel, absPath: abs, size: buf.length, sha256 });
        for (let d = path.posix.dirname(rel); d !== "."; d = path.posix.dirname(d)) shippedDirs.add(d);
    };

    // Synchronous reads on purpose: policy files are small, and a thread-pool round trip per file
    // doubled the time of a 5,000-file load (bench/README.md).
    const loadFile = async (rel: string, abs: string) => {
        const st = fsSync.statSync(abs);
        if (st.size > maxFileSize) {
            errors.push(new PolicyLoadError(rel, undefined, "too-large", `file is ${st.size} bytes, over the ${maxFileSize}-byte limit (maxFileSize); split it into smaller files or raise maxFileSize`));
            return;
        }
        const buf = fsSync.readFileSync(abs);
        if (buf.length > maxFileSize) {
            errors.push(new PolicyLoadError(rel, undefined, "too-large", `file grew to ${buf.length} bytes while being read, over the ${maxFileSize}-byte limit; split it or raise maxFileSize`));
            return;
        }
        const sha256 = sha256Digest(buf);
        const key = ValidationCache.key(rel, sha256, limits);
        const cached = cache?.get(key);
        if (cached?.empty) {
            skipped.push({ path: rel, reason: "empty" });
            return;
        }
        if (cached) {
            kustomizations.push(...cached.kustomizations.map((k) => ({ ...k, file: rel })));
            const filePolicies = cached.policies.map((p) => ({ ...p, file: rel }));
            if (filePolicies.length > 0) policyFiles.push(rel);
            ship(rel, abs, buf, sha256, filePolicies);
            return;
        }
        const start = errors.length;
        const bad = findInvalidUtf8(buf);
        if (bad >= 0) {
            errors.push(new PolicyLoadError(rel, lineOfByteOffset(buf, bad), "not-utf8", `not valid UTF-8 (byte 0x${buf[bad].toString(16).padStart(2, "0")} at offset ${bad}); save the file as UTF-8`));
            return;
        }
        const { documents, problems } = parseYamlDocuments(buf.toString("utf8"), { maxExpandedNodes: opts.maxExpandedNodes });
        for (const p of problems) errors.push(new PolicyLoadError(rel, p.line, p.cause, p.detail));
        if (documents.length === 0 && problems.length === 0) {
            skipped.push({ path: rel, reason: "empty" });
            cache?.set(key, { empty: true });
            return;
        }
        const before = errors.length;
        const filePolicies: Policy[] = [];
        const fileKustomizations: KustomizationDoc[] = [];
        for (const doc of documents) {
            const c = classifyDocument(doc, rel, errors);
            if (c.type === "policy") filePolicies.push(c.policy);
            else if (c.type === "kustomization") fileKustomizations.push(c.kustomization);
        }
        kustomizations.push(...fileKustomizations);
        if (KUSTOMIZATION_FILES.includes(path.posix.basename(rel)) && documents.length > 1) {
            errors.push(new PolicyLoadError(rel, documents[1].line, "kustomization", "a kustomization file must hold exactly one document; remove the extra documents"));
        }
        if (filePolicies.length > 0) policyFiles.push(rel);
        if (errors.length > before) return;
        ship(rel, abs, buf, sha256, filePolicies);
        // Documents go through JSON here; server-side apply sends them as JSON too, so nothing a
        // cluster could receive is lost.
        if (errors.length === start) {
            cache?.set(key, {
                policies: filePolicies.map(({ file: _file, ...rest }) => rest),
                kustomizations: fileKustomizations.map(({ file: _file, ...rest }) => rest),
            });
        }
    };

    /** Resolves a symlink found at `rel`; returns the real path and type, or reports why not. */
    const resolveLink = async (rel: string, abs: string): Promise<{ real: string; isDir: boolean } | undefined> => {
        let target = "";
        try {
            target = await fs.readlink(abs);
            const real = await fs.realpath(abs);
            if (!isInside(root, real)) {
                errors.push(new PolicyLoadError(rel, undefined, "symlink", `symlink points outside the policy directory (to "${target}"); copy the file into the directory or list the link in .sourceignore`));
                return undefined;
            }
            const st = await fs.stat(real);
            return { real, isDir: st.isDirectory() };
        } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            const why = code === "ELOOP" ? "is part of a symlink loop" : code === "ENOENT" ? `is dangling (target "${target}" does not exist)` : `cannot be resolved (${code})`;
            errors.push(new PolicyLoadError(rel, undefined, "symlink", `symlink ${why}; fix or remove the link, or list it in .sourceignore`));
            return undefined;
        }
    };

    const walk = async (absDir: string, relDir: string, matcher: IgnoreMatcher, ancestors: Set<string>): Promise<void> => {
        let m = matcher;
        const ignoreFile = path.join(absDir, SOURCEIGNORE_FILE);
        try {
            const real = await fs.realpath(ignoreFile);
            if (isInside(root, real)) m = m.with(parseIgnoreFile(await fs.readFile(real, "utf8"), relDir));
        } catch {
            // no .sourceignore here
        }
        const entries: Dirent[] = await fs.readdir(absDir, { withFileTypes: true });
        entries.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
        for (const ent of entries) {
            if (++entriesSeen > maxEntries) {
                errors.push(new PolicyLoadError(relDir || ".", undefined, "directory", `more than ${maxEntries} entries in the policy directory; list large subtrees in .sourceignore or raise maxEntries`));
                return;
            }
            const rel = relDir ? `${relDir}/${ent.name}` : ent.name;
            const abs = path.join(absDir, ent.name);
            let realAbs = abs;
            let isDir = ent.isDirectory();
            let isFile = ent.isFile();
            const isLink = ent.isSymbolicLink();
            let linkTarget: { real: string; isDir: boolean } | undefined;
            if (isLink) {
                // Decide on ignore before complaining about a link Flux would never look at.
                let probeDir = false;
                try {
                    probeDir = (await fs.stat(abs)).isDirectory();
                } catch {
                    // dangling or loop: reported below unless ignored
                }
                if (m.matchSelf(rel, probeDir).ignored) {
                    skipped.push({ path: rel, reason: "ignored" });
                    continue;
                }
                linkTarget = await resolveLink(rel, abs);
                if (!linkTarget) continue;
                realAbs = linkTarget.real;
                isDir = linkTarget.isDir;
                isFile = !isDir;
            } else if (m.matchSelf(rel, isDir).ignored) {
                skipped.push({ path: rel, reason: "ignored" });
                continue;
            }
            if (isDir) {
                const realDir = isLink ? realAbs : await fs.realpath(abs);
                if (ancestors.has(realDir)) {
                    errors.push(new PolicyLoadError(rel, undefined, "symlink", "symlink loop: the link points to one of its own parent directories; remove the link or list it in .sourceignore"));
                    continue;
                }
                await walk(realDir, rel, m, new Set([...ancestors, realDir]));
            } else if (isFile) {
                if (isLink && !(await fs.stat(realAbs)).isFile()) {
                    skipped.push({ path: rel, reason: "not-regular" });
                } else if (!YAML_EXT.test(ent.name)) {
                    skipped.push({ path: rel, reason: "not-yaml" });
                } else {
                    await loadFile(rel, realAbs);
                }
            } else {
                skipped.push({ path: rel, reason: "not-regular" });
            }
        }
    };

    await walk(root, "", IgnoreMatcher.withFluxDefaults().with(extra), new Set([root]));

    // Duplicates: same group/kind/namespace/name would collide in the cluster.
    const byKey = new Map<string, PolicyInfo>();
    for (const p of [...policies].sort((a, b) => comparePaths(a.file, b.file) || a.line - b.line)) {
        const k = policyKey(p);
        const prev = byKey.get(k);
        if (prev) {
            errors.push(new PolicyLoadError(p.file, p.line, "duplicate-policy", `duplicate ${p.kind} "${p.namespace ? p.namespace + "/" : ""}${p.name}": also defined in ${prev.file}:${prev.line}`));
        } else {
            byKey.set(k, p);
        }
    }

    checkKustomizations(kustomizations, files, shippedDirs, policies, errors);
    // Saved whatever the outcome: the files that validated stay cached while the others are fixed.
    cache?.save();

    if (policies.length === 0 && errors.length === 0) {
        const counts = ["not-yaml", "ignored", "empty"].map((r) => `${skipped.filter((s) => s.reason === r).length} ${r}`).join(", ");
        errors.push(new PolicyLoadError(".", undefined, "directory", `no Kyverno policies found (files skipped: ${counts}); add policy YAML files to the directory or point at the right directory`));
    }
    if (errors.length > 0) throw new PolicyLoadAggregateError(dir, errors, [...new Set(policyFiles)].sort(comparePaths));

    files.sort((a, b) => comparePaths(a.path, b.path));
    policies.sort(comparePolicies);
    skipped.sort((a, b) => comparePaths(a.path, b.path));
    return { root, files, policies, skipped, ...(cache ? { cacheHits: cache.hitCount } : {}) };
}

/**
 * A kustomization.yaml replaces kustomize-controller's generated one, so only what it lists gets
 * applied. Check every local resource exists in the artifact, and — for a root kustomization —
 * that no policy file is left out (it would silently never reach the cluster).
 */
function checkKustomizations(
    ks: KustomizationDoc[],
    files: PolicyFile[],
    shippedDirs: Set<string>,
    policies: PolicyInfo[],
    errors: PolicyLoadError[],
): void {
    if (ks.length === 0) return;
    const shipped = new Set(files.map((f) => f.path));
    const kByDir = new Map(ks.map((k) => [path.posix.dirname(k.file), k]));
    for (const k of ks) {
        const kdir = path.posix.dirname(k.file);
        for (const r of k.resources) {
            const target = path.posix.normalize(path.posix.join(kdir, r.value)).replace(/\/$/, "");
            if (target === ".." || target.startsWith("../") || path.posix.isAbsolute(r.value)) {
                errors.push(new PolicyLoadError(k.file, r.line, "kustomization", `resources entry "${r.value}" points outside the policy directory; Flux only sees the artifact's content — move the resource inside or remove the entry`));
            } else if (shipped.has(target)) {
                continue;
            } else if (target === "." || shippedDirs.has(target)) {
                if (!kByDir.has(target)) {
                    errors.push(new PolicyLoadError(k.file, r.line, "kustomization", `resources entry "${r.value}" is a directory without a kustomization.yaml; kustomize needs one there — add it or list the files instead`));
                }
            } else {
                errors.push(new PolicyLoadError(k.file, r.line, "kustomization-resource", `resources entry "${r.value}" is not in the artifact (missing, ignored, not YAML or invalid)`));
            }
        }
    }
    const rootK = kByDir.get(".");
    if (!rootK) return;
    // Files reachable from the root kustomization.
    const reached = new Set<string>();
    const visit = (k: KustomizationDoc, seen: Set<string>) => {
        const kdir = path.posix.dirname(k.file);
        for (const r of k.resources) {
            const target = path.posix.normalize(path.posix.join(kdir, r.value)).replace(/\/$/, "");
            if (shipped.has(target)) reached.add(target);
            const sub = kByDir.get(target);
            if (sub && !seen.has(sub.file)) visit(sub, new Set([...seen, sub.file]));
        }
    };
    visit(rootK, new Set([rootK.file]));
    const reported = new Set<string>();
    for (const p of policies) {
        if (reached.has(p.file) || reported.has(p.file)) continue;
        reported.add(p.file);
        errors.push(new PolicyLoadError(p.file, undefined, "not-in-kustomization", `not listed (directly or through a nested kustomization) in ${rootK.file} resources, so Flux would never apply it`));
    }
}
