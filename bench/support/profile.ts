/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and summarises where the time went: self time per
 * function and per area (module loading, policy loading/validation, tar+gzip, registry client,
 * file-system calls, GC, idle = waiting on I/O or the thread pool).
 */
import * as fs from "node:fs";

interface CallFrame {
    functionName: string;
    url: string;
    lineNumber: number;
}
interface ProfileNode {
    id: number;
    callFrame: CallFrame;
    children?: number[];
}
interface CpuProfile {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
    startTime: number;
    endTime: number;
}

export interface ProfileItem {
    /** `function (file:line)`, file relative to the build output or node_modules. */
    name: string;
    selfMs: number;
    pct: number;
}

export interface ProfileSummary {
    totalMs: number;
    top: ProfileItem[];
    areas: ProfileItem[];
}

function shortUrl(url: string): string {
    if (!url) return "";
    return url
        .replace(/^file:\/\//, "")
        .replace(/^.*\/node_modules\//, "node_modules/")
        .replace(/^.*\/build\//, "");
}

const FS_NATIVE = new Set(["stat", "lstat", "fstat", "open", "openFileHandle", "read", "readFileUtf8", "close", "readdir", "realpath", "writeBuffer", "writeString", "rename", "mkdtemp", "rmSync", "mkdir"]);

/** The area a sampled frame belongs to. */
function areaOf(cf: CallFrame, stack: CallFrame[]): string {
    const fn = cf.functionName;
    if (fn === "(idle)") return "idle (waiting: I/O, thread pool, network)";
    if (fn === "(garbage collector)") return "garbage collector";
    if (fn === "(program)") return "V8/native (unattributed)";
    const inModuleLoad = stack.some((f) => f.url.includes("node:internal/modules/") && /compile|wrapSafe|Module\._load|require/.test(f.functionName));
    if (inModuleLoad && !stack.some((f) => /lib\/policies|lib\/artifact|lib\/oci/.test(f.url) && /load|build|push/i.test(f.functionName))) {
        return "module loading (require + compile)";
    }
    if (!cf.url && FS_NATIVE.has(fn)) return "file-system calls (native)";
    const u = shortUrl(cf.url);
    if (u.startsWith("node_modules/js-yaml")) return "policy loading: js-yaml parse";
    if (u.startsWith("lib/policies/")) return "policy loading: validate, digest (lib/policies)";
    if (u.startsWith("lib/artifact/")) return "layer: tar (lib/artifact)";
    if (u === "node:zlib" || u.startsWith("node:internal/zlib")) return "layer: gzip (zlib)";
    if (u.startsWith("lib/oci/") || u.startsWith("node:_http") || u.startsWith("node:http") || u.startsWith("node:net")) return "registry client (lib/oci, http)";
    if (u.includes("crypto")) return "sha256 hashing";
    if (u.startsWith("node:internal/fs") || u === "node:fs") return "file-system calls (node fs)";
    // Attribute everything else to the nearest known caller.
    for (let i = stack.length - 1; i >= 0; i--) {
        const v = shortUrl(stack[i]!.url);
        if (v.startsWith("lib/policies/") || v.startsWith("node_modules/js-yaml")) return "policy loading: validate, digest (lib/policies)";
        if (v.startsWith("lib/artifact/")) return "layer: tar (lib/artifact)";
        if (v.startsWith("lib/oci/")) return "registry client (lib/oci, http)";
    }
    return "other";
}

export function summariseProfile(file: string, topN = 15): ProfileSummary {
    const p = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const stackOf = (id: number): CallFrame[] => {
        const out: CallFrame[] = [];
        for (let c: number | undefined = id; c !== undefined; c = parent.get(c)) out.unshift(byId.get(c)!.callFrame);
        return out;
    };
    const selfMs = new Map<number, number>();
    // timeDeltas[i] is the time before sample i; the time a sample stands for is the next delta.
    for (let i = 0; i < p.samples.length; i++) {
        const d = (p.timeDeltas[i + 1] ?? 0) / 1000;
        selfMs.set(p.samples[i]!, (selfMs.get(p.samples[i]!) ?? 0) + d);
    }
    let total = 0;
    const byFn = new Map<string, number>();
    const byArea = new Map<string, number>();
    for (const [id, ms] of selfMs) {
        total += ms;
        const cf = byId.get(id)!.callFrame;
        const u = shortUrl(cf.url);
        const name = `${cf.functionName || "(anonymous)"}${u ? ` (${u}:${cf.lineNumber + 1})` : ""}`;
        byFn.set(name, (byFn.get(name) ?? 0) + ms);
        const area = areaOf(cf, stackOf(id));
        byArea.set(area, (byArea.get(area) ?? 0) + ms);
    }
    const items = (m: Map<string, number>, n: number): ProfileItem[] =>
        [...m]
            .sort((a, b) => b[1] - a[1])
            .slice(0, n)
            .map(([name, ms]) => ({ name, selfMs: Math.round(ms * 10) / 10, pct: Math.round((1000 * ms) / total) / 10 }));
    return { totalMs: Math.round(total), top: items(byFn, topN), areas: items(byArea, 50) };
}
