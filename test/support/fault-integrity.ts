/**
 * The invariant every fault test checks: a registry never serves a tag unless every blob its
 * manifest names is there, byte for byte. Reads the tag with skopeo (an independent client), then
 * fetches the config and every layer straight from the registry (not through a fault proxy) and
 * verifies digest and size.
 */
import * as crypto from "node:crypto";

import { OciError, RegistryClient } from "../../lib/oci";
import { run, skopeoFlags, type RegistryHandle } from "./registry";

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

/** Reads `repo:tag` on `reg` with skopeo and verifies every blob its manifest names. */
export async function tagIntegrity(reg: RegistryHandle, repo: string, tag: string): Promise<TagState> {
    const r = await run("skopeo", ["inspect", "--raw", ...skopeoFlags(reg, "inspect"), `docker://${reg.host}/${repo}:${tag}`], { timeoutMs: 30_000 });
    if (r.code !== 0) {
        if (/manifest unknown|not found|name unknown/i.test(r.stderr)) return { state: "absent" };
        throw new Error(`skopeo inspect ${repo}:${tag} failed (${r.code}): ${r.stderr}`);
    }
    const digest = `sha256:${crypto.createHash("sha256").update(r.stdout).digest("hex")}`;
    const manifest = JSON.parse(r.stdout) as { config?: { digest: string; size: number }; layers?: { digest: string; size: number }[] };
    const descriptors = [...(manifest.config ? [manifest.config] : []), ...(manifest.layers ?? [])];
    const client = new RegistryClient(reg.url(repo), {
        credentials: reg.username ? { username: reg.username, password: reg.password! } : undefined,
        insecure: reg.mode === "basic-tls" ? false : true,
        caFile: reg.caFile,
        retry: { attempts: 1 },
        timeouts: { idleMs: 10_000 },
    });
    try {
        for (const d of descriptors) {
            try {
                await client.getBlob(d.digest, d.size);
            } catch (e) {
                if (e instanceof OciError && (e.code === "not-found" || e.code === "digest-mismatch")) {
                    return { state: "broken", digest, blobs: descriptors.length, problem: `${d.digest}: ${e.message}` };
                }
                throw e;
            }
        }
    } finally {
        client.close();
    }
    return { state: "complete", digest, blobs: descriptors.length };
}

/** `absent`, or `complete (n blobs) → sha256:abcdef…`, for tables. */
export function describeTag(s: TagState): string {
    if (s.state === "absent") return "absent";
    if (s.state === "broken") return `BROKEN: ${s.problem}`;
    return `complete, ${s.blobs} blobs, ${s.digest!.slice(0, 19)}…`;
}

/** A fixed-width text table (for matrices printed in test output). */
export function formatTable(header: string[], rows: string[][]): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => (c ?? "").padEnd(widths[i]!)).join(" | ")} |`;
    return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}
