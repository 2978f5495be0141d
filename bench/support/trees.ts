/**
 * Benchmark policy trees: copies of the real sample policies with their names made unique, so
 * every generated tree has the samples' size distribution (and content mix) and still loads
 * (no duplicate kind/name). Files are spread over `team-NN/` directories of at most 250 files,
 * the way a large policy repository is laid out.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Files per `team-NN/` directory in generated trees. */
export const FILES_PER_DIR = 250;

export interface Sample {
    file: string;
    text: string;
    name: string;
}

/** Reads the sample policies (one document each, `metadata.name` on its own line). */
export function readSamples(dir: string): Sample[] {
    const out: Sample[] = [];
    for (const f of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
        const text = fs.readFileSync(path.join(dir, f), "utf8");
        const m = /^metadata:\n(?:[ \t]+.*\n)*?[ \t]+name:[ \t]*(\S+)[ \t]*$/m.exec(text);
        if (!m) throw new Error(`sample ${f}: no metadata.name line`);
        out.push({ file: f, text, name: m[1]! });
    }
    if (out.length === 0) throw new Error(`no sample policies in ${dir}`);
    return out;
}

/** The sample text with `metadata.name` (and every other occurrence of the name as a word) suffixed. */
function mutate(s: Sample, suffix: string): string {
    const re = new RegExp(`\\b${s.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`, "g");
    return s.text.replace(re, `${s.name}-${suffix}`);
}

/**
 * Writes `n` policy files under `dir` (removed first). File i is sample i mod k renamed to
 * `<name>-<i>`; the byte sizes therefore follow the samples' distribution (plus a few bytes).
 */
export function generateTree(samples: Sample[], dir: string, n: number): { files: number; bytes: number } {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const width = String(n - 1).length;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
        const s = samples[i % samples.length]!;
        const suffix = String(i).padStart(width, "0");
        const sub = path.join(dir, `team-${String(Math.floor(i / FILES_PER_DIR)).padStart(2, "0")}`);
        if (i % FILES_PER_DIR === 0) fs.mkdirSync(sub, { recursive: true });
        const text = mutate(s, suffix);
        fs.writeFileSync(path.join(sub, `${s.name}-${suffix}.yaml`), text);
        bytes += Buffer.byteLength(text);
    }
    return { files: n, bytes };
}

/** Copies a directory (the sample tree itself) so every tool reads the same, writable location. */
export function copyTree(src: string, dir: string): { files: number; bytes: number } {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.cpSync(src, dir, { recursive: true });
    let files = 0;
    let bytes = 0;
    for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
        const st = fs.statSync(path.join(dir, f));
        if (st.isFile()) {
            files++;
            bytes += st.size;
        }
    }
    return { files, bytes };
}
