/**
 * skopeo, an independent client, to check what a test registry (test/harness/registry.ts) holds.
 */
import { run } from "../harness/processes";
import type { RegistryHandle } from "../harness/registry";

/**
 * skopeo flags to reach this registry as a *source* (`inspect`) or a copy source (`copy`, which
 * spells them --src-…): TLS verification off for plain HTTP, the test CA dir for TLS, creds when set.
 */
export function skopeoFlags(reg: RegistryHandle, role: "inspect" | "copy-src"): string[] {
    const p = role === "copy-src" ? "--src-" : "--";
    const out: string[] = [];
    if (reg.mode === "anonymous" || reg.mode === "token") out.push(`${p}tls-verify=false`);
    else out.push(`${p}cert-dir`, reg.certDir!);
    if (reg.username) out.push(`${p}creds`, `${reg.username}:${reg.password}`);
    return out;
}

/** `skopeo inspect --raw docker://host/repo:tag`, parsed. Throws with skopeo's stderr on failure. */
export async function skopeoInspectRaw(reg: RegistryHandle, repo: string, tag: string): Promise<{ raw: string; json: Record<string, any> }> {
    const r = await run("skopeo", ["inspect", "--raw", ...skopeoFlags(reg, "inspect"), `docker://${reg.host}/${repo}:${tag}`]);
    if (r.code !== 0) throw new Error(`skopeo inspect failed (${r.code}): ${r.stderr}`);
    return { raw: r.stdout, json: JSON.parse(r.stdout) };
}

/** `skopeo copy docker://… oci:<dir>:<tag>`; returns the OCI layout dir. */
export async function skopeoCopyToOciLayout(reg: RegistryHandle, repo: string, tag: string, dir: string): Promise<string> {
    const r = await run("skopeo", ["copy", "--quiet", ...skopeoFlags(reg, "copy-src"), `docker://${reg.host}/${repo}:${tag}`, `oci:${dir}:${tag}`]);
    if (r.code !== 0) throw new Error(`skopeo copy failed (${r.code}): ${r.stderr}`);
    return dir;
}
