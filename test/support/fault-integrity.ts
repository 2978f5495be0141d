/**
 * The invariants every fault test checks, with nothing from lib/oci (the client under test):
 *
 * - a registry never serves a tag unless every blob its manifest names is there, byte for byte:
 *   skopeo (an independent client) reads the tag's manifest and copies the image with all its blobs
 *   to a `dir:` layout, and each copied blob is hashed and sized against the manifest;
 * - a client never starts a manifest PUT before the registry has confirmed every blob that manifest
 *   names: checked on the fault proxy's record of requests (start and end order), so a client that
 *   sent the manifest first would fail even when the registry happens to refuse such a manifest.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { run } from "../harness/processes";
import type { RegistryHandle } from "../harness/registry";
import { skopeoFlags } from "./skopeo";

/** What a tag looks like after a scenario. */
export interface TagState {
    /** absent: no such tag. complete: manifest and all blobs verified. broken: a named blob is missing or wrong. */
    state: "absent" | "complete" | "broken";
    /** Manifest digest the tag resolves to. */
    digest?: string;
    /** Blobs verified (config + layers). */
    blobs?: number;
    /** Why it is broken. */
    problem?: string;
}

const sha256 = (b: Buffer | string) => `sha256:${crypto.createHash("sha256").update(b).digest("hex")}`;

/**
 * Reads `repo:tag` on `reg` with `skopeo inspect --raw`, copies that manifest with every blob it
 * names to a temporary `dir:` layout with `skopeo copy`, and checks each blob's digest and size.
 */
export async function tagIntegrity(reg: RegistryHandle, repo: string, tag: string): Promise<TagState> {
    const r = await run("skopeo", ["inspect", "--raw", ...skopeoFlags(reg, "inspect"), `docker://${reg.host}/${repo}:${tag}`], { timeoutMs: 30_000 });
    if (r.code !== 0) {
        if (/manifest unknown|not found|name unknown/i.test(r.stderr)) return { state: "absent" };
        throw new Error(`skopeo inspect ${repo}:${tag} failed (${r.code}): ${r.stderr}`);
    }
    const digest = sha256(r.stdout);
    const manifest = JSON.parse(r.stdout) as { config?: { digest: string; size: number }; layers?: { digest: string; size: number }[] };
    const descriptors = [...(manifest.config ? [manifest.config] : []), ...(manifest.layers ?? [])];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tag-integrity-"));
    try {
        // By digest, so a tag moved in between cannot mix two artifacts; skopeo verifies every blob's
        // digest while copying.
        const c = await run("skopeo", ["copy", "--quiet", ...skopeoFlags(reg, "copy-src"), `docker://${reg.host}/${repo}@${digest}`, `dir:${dir}`], { timeoutMs: 60_000 });
        if (c.code !== 0) {
            if (/reading blob [^:]+:[0-9a-f]+: .*(404|not found)|blob unknown|digest did not match|does not match/i.test(c.stderr)) {
                return { state: "broken", digest, blobs: descriptors.length, problem: `skopeo copy: ${/msg="(.*)"/.exec(c.stderr)?.[1] ?? c.stderr.trim()}` };
            }
            throw new Error(`skopeo copy ${repo}@${digest} failed (${c.code}): ${c.stderr}`);
        }
        const copied = fs.readFileSync(path.join(dir, "manifest.json"));
        if (sha256(copied) !== digest) return { state: "broken", digest, problem: `skopeo copied manifest ${sha256(copied)}, not ${digest}` };
        for (const d of descriptors) {
            const file = path.join(dir, d.digest.replace(/^sha256:/, ""));
            if (!fs.existsSync(file)) return { state: "broken", digest, blobs: descriptors.length, problem: `${d.digest}: not copied` };
            const bytes = fs.readFileSync(file);
            if (sha256(bytes) !== d.digest || bytes.length !== d.size) {
                return { state: "broken", digest, blobs: descriptors.length, problem: `${d.digest}: copied ${bytes.length} bytes hashing to ${sha256(bytes)}` };
            }
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    return { state: "complete", digest, blobs: descriptors.length };
}

/** `absent`, or `complete (n blobs) → sha256:abcdef…`, for tables. */
export function describeTag(s: TagState): string {
    if (s.state === "absent") return "absent";
    if (s.state === "broken") return `BROKEN: ${s.problem}`;
    return `complete, ${s.blobs} blobs, ${s.digest!.slice(0, 19)}…`;
}

/** One recorded request, as the fault proxy keeps it (`FaultEntry` satisfies this). */
export interface OrderRecord {
    method: string;
    /** Path and query, as sent. */
    path: string;
    /** Status the client got. */
    status?: number;
    /** Position of the request's start in the record's order. */
    started: number;
    /** Position of the end of the exchange (same counter); undefined when it never ended. */
    completed?: number;
    /** The client received the whole answer. */
    answered?: boolean;
    /** Body of a manifest PUT. */
    body?: Buffer;
}

/** What an entry tells the client about blobs: the repository and the blob digest it confirmed. */
function blobConfirmed(e: OrderRecord): { repo: string; digest: string } | undefined {
    if (!e.answered) return undefined;
    const u = new URL(e.path, "http://registry.invalid");
    const upload = /^\/v2\/(.+)\/blobs\/uploads\/[^/]*$/.exec(u.pathname);
    if (upload) {
        const repo = upload[1]!;
        // PUT …/blobs/uploads/<id>?digest=X (end of a monolithic or chunked upload): 201 Created.
        if (e.method === "PUT" && e.status === 201 && u.searchParams.get("digest")) return { repo, digest: u.searchParams.get("digest")! };
        // POST …/blobs/uploads/?mount=X&from=… (cross-repository mount) or ?digest=X (single POST): 201.
        if (e.method === "POST" && e.status === 201) {
            const d = u.searchParams.get("mount") ?? u.searchParams.get("digest");
            if (d) return { repo, digest: d };
        }
        return undefined;
    }
    // HEAD/GET …/blobs/X answered 200: the registry says it has the blob.
    const blob = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(u.pathname);
    if (blob && (e.method === "HEAD" || e.method === "GET") && e.status === 200) return { repo: blob[1]!, digest: decodeURIComponent(blob[2]!) };
    return undefined;
}

/**
 * Every manifest PUT in `records` whose config or layers were not confirmed to the client before
 * the PUT started: confirmed means an exchange that completed earlier in the same repository and
 * told the client the blob is there (an upload PUT `?digest=X` or a mount answered 201, a HEAD/GET
 * of the blob answered 200). A confirmation that completed after the manifest PUT started does not
 * count, nor does a failed or cut-off upload. Returns one message per problem; [] when in order.
 */
export function manifestOrderViolations(records: readonly OrderRecord[]): string[] {
    const problems: string[] = [];
    for (const put of records) {
        const m = /^\/v2\/(.+)\/manifests\/([^/?]+)/.exec(put.path);
        if (put.method !== "PUT" || !m) continue;
        const repo = m[1]!;
        const what = `manifest PUT ${put.path} (started at ${put.started})`;
        let names: string[];
        try {
            const doc = JSON.parse((put.body ?? Buffer.alloc(0)).toString("utf8")) as { config?: { digest?: string }; layers?: { digest?: string }[] };
            names = [doc.config?.digest, ...(doc.layers ?? []).map((l) => l.digest)].filter((d): d is string => typeof d === "string");
        } catch {
            problems.push(`${what}: body was not recorded or is not JSON, so its blobs cannot be checked`);
            continue;
        }
        if (names.length === 0) {
            problems.push(`${what}: names no config or layer`);
            continue;
        }
        for (const digest of names) {
            const before = records.find((e) => {
                if (e.completed === undefined || e.completed >= put.started) return false;
                const c = blobConfirmed(e);
                return c !== undefined && c.repo === repo && c.digest === digest;
            });
            if (!before) {
                const later = records.find((e) => blobConfirmed(e)?.digest === digest && e.completed !== undefined && e.completed > put.started);
                problems.push(`${what}: blob ${digest} was not confirmed before it${later ? ` (confirmed only at ${later.completed}, by ${later.method} ${later.path})` : ""}`);
            }
        }
    }
    return problems;
}

/** A fixed-width text table (for matrices printed in test output). */
export function formatTable(header: string[], rows: string[][]): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => (c ?? "").padEnd(widths[i]!)).join(" | ")} |`;
    return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}
