/**
 * Reusable secret-leak scan for tests: greps texts, files and directory trees for a registry
 * password in every form it could leak in, while ignoring Pulumi ciphertext.
 *
 * Forms looked for (each reported by label, never by value):
 * - the password; JSON-escaped and URL-encoded when those differ; `user:password`;
 * - base64 and base64url of `user:password`, with and without padding (Basic header, docker `auth`);
 * - each dockerconfigjson given, raw and base64 (a Secret's `data[".dockerconfigjson"]`);
 * - the password inside *any* base64 text, at each of the three byte alignments (catches base64 of
 *   a differently formatted docker config, of a whole kubeconfig or Secret manifest, …), when the
 *   password is long enough for that to be meaningful (≥ 8 base64 characters of core).
 *
 * Ignored, because they are encrypted: JSON `"ciphertext": "…"` values (`pulumi stack export`),
 * YAML/JSON `secure: …` values (stack config files), `encryptionsalt: …`.
 *
 * Use from the e2e harness (after `pulumi up`):
 *
 *   const hits = scanForSecrets(
 *     { texts: { "stack export": exported, "preview": previewOut, "engine log": log }, paths: [logDir] },
 *     { username, password, dockerConfigJson: [secretJson] },
 *   );
 *   assert.deepEqual(hits.map(formatHit), []);          // or: assertNoSecrets(…)
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The secret to look for. */
export interface SecretSpec {
    username?: string;
    password: string;
    /** dockerconfigjson texts exactly as stored (e.g. in the pull Secret); each is looked for raw and base64-encoded. */
    dockerConfigJson?: string | string[];
    /** Further literal secrets (tokens), looked for raw and base64. */
    extra?: string[];
}

/** One needle: what it is (label) and its value. */
export interface Needle {
    label: string;
    value: string;
}

/** One leak found. `excerpt` has every needle replaced by `<label>`; it never holds a secret. */
export interface SecretHit {
    source: string;
    label: string;
    line: number;
    column: number;
    excerpt: string;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");
const b64url = (s: string | Buffer) => Buffer.from(s).toString("base64url");

/**
 * Base64 characters that are the same wherever `secret` sits inside a longer base64-encoded text:
 * for each of the 3 alignments, the encoding of the secret minus the characters it shares with its
 * neighbours. Returns only cores of at least `minLength` characters.
 */
export function base64Cores(secret: string, minLength = 8): string[] {
    const bytes = Buffer.from(secret);
    const out = new Set<string>();
    for (let shift = 0; shift < 3; shift++) {
        const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
        const enc = padded.toString("base64").replace(/=+$/, "");
        // Characters mixing filler bits: the first group when shifted; trailing partial group.
        const start = shift === 0 ? 0 : 4;
        const fullGroups = Math.floor(padded.length / 3);
        const end = fullGroups * 4;
        const core = enc.slice(start, end);
        if (core.length >= minLength) {
            out.add(core);
            out.add(core.replace(/\+/g, "-").replace(/\//g, "_"));
        }
    }
    return [...out];
}

/** Every form of the secret to look for, longest first (so an excerpt names the most specific). */
export function secretNeedles(spec: SecretSpec): Needle[] {
    if (!spec.password) throw new Error("secrets-scan: empty password");
    const n: Needle[] = [];
    const add = (label: string, value: string | undefined) => {
        if (value && !n.some((x) => x.value === value)) n.push({ label, value });
    };
    const pw = spec.password;
    add("password", pw);
    add("password (JSON-escaped)", JSON.stringify(pw).slice(1, -1));
    add("password (URL-encoded)", encodeURIComponent(pw));
    if (spec.username !== undefined) {
        const pair = `${spec.username}:${pw}`;
        add("user:password", pair);
        add("base64(user:password)", b64(pair));
        add("base64(user:password) unpadded", b64(pair).replace(/=+$/, ""));
        add("base64url(user:password)", b64url(pair));
    }
    const configs = spec.dockerConfigJson === undefined ? [] : Array.isArray(spec.dockerConfigJson) ? spec.dockerConfigJson : [spec.dockerConfigJson];
    for (const c of configs) {
        add("dockerconfigjson", c);
        add("base64(dockerconfigjson)", b64(c));
    }
    for (const [i, e] of (spec.extra ?? []).entries()) {
        add(`extra secret #${i + 1}`, e);
        add(`base64(extra secret #${i + 1})`, b64(e));
    }
    for (const core of base64Cores(pw)) add("password inside base64 text", core);
    for (const core of base64Cores(JSON.stringify(pw).slice(1, -1))) add("password (JSON-escaped) inside base64 text", core);
    if (spec.username !== undefined) for (const core of base64Cores(`${spec.username}:${pw}`)) add("user:password inside base64 text", core);
    return n.sort((a, b) => b.value.length - a.value.length);
}

/**
 * Replaces Pulumi ciphertext with a placeholder: `"ciphertext": "…"`, `secure: …` / `"secure": "…"`
 * and `encryptionsalt: …`. Only values under those keys are touched.
 */
export function stripCiphertext(text: string): string {
    return text
        .replace(/("ciphertext"\s*:\s*)"(?:[^"\\]|\\.)*"/g, '$1"<ciphertext>"')
        .replace(/("secure"\s*:\s*)"(?:[^"\\]|\\.)*"/g, '$1"<ciphertext>"')
        .replace(/(^|[\s{,-])(secure|encryptionsalt):[ \t]*("?)[A-Za-z0-9+/=:_-]+\3/gm, "$1$2: <ciphertext>");
}

/** Scans one text. `source` names it in the hits. */
export function scanText(text: string, spec: SecretSpec, source = "text", needles = secretNeedles(spec)): SecretHit[] {
    const clean = stripCiphertext(text);
    const hits: SecretHit[] = [];
    // Needles come longest first: a shorter one inside an already reported leak is the same leak.
    const reported: [number, number][] = [];
    for (const needle of needles) {
        for (let at = clean.indexOf(needle.value); at >= 0; at = clean.indexOf(needle.value, at + 1)) {
            const end = at + needle.value.length;
            if (reported.some(([s, e]) => s <= at && end <= e)) continue;
            reported.push([at, end]);
            const before = clean.slice(0, at);
            const line = before.split("\n").length;
            const column = at - before.lastIndexOf("\n");
            hits.push({ source, label: needle.label, line, column, excerpt: excerpt(clean, at, needle, needles) });
        }
    }
    return hits.sort((a, b) => a.line - b.line || a.column - b.column);
}

function excerpt(text: string, at: number, hit: Needle, needles: Needle[]): string {
    const lo = Math.max(0, at - 40);
    const hi = Math.min(text.length, at + hit.value.length + 40);
    let s = text.slice(lo, hi);
    for (const n of needles) s = s.split(n.value).join(`<${n.label}>`);
    // Partial needles at the window's edges: never print anything that could be half a secret.
    for (const n of needles) {
        for (let k = Math.min(n.value.length - 1, 40); k >= 4; k--) {
            if (s.startsWith(n.value.slice(-k))) s = "…" + s.slice(k);
            if (s.endsWith(n.value.slice(0, k))) s = s.slice(0, s.length - k) + "…";
        }
    }
    return s.replace(/\s+/g, " ");
}

/** Inputs of `scanForSecrets`. */
export interface ScanInputs {
    /** Named texts (command output, error messages, an export). */
    texts?: Record<string, string>;
    /** Files, or directories scanned recursively (symlinks not followed). */
    paths?: string[];
}

/** Scans texts, files and directory trees. Returns every hit (empty = clean). */
export function scanForSecrets(inputs: ScanInputs, spec: SecretSpec): SecretHit[] {
    const needles = secretNeedles(spec);
    const hits: SecretHit[] = [];
    for (const [name, text] of Object.entries(inputs.texts ?? {})) hits.push(...scanText(text, spec, name, needles));
    const visit = (p: string) => {
        const st = fs.lstatSync(p);
        if (st.isDirectory()) {
            for (const e of fs.readdirSync(p).sort()) visit(path.join(p, e));
        } else if (st.isFile()) {
            hits.push(...scanText(fs.readFileSync(p).toString("utf8"), spec, p, needles));
        }
    };
    for (const p of inputs.paths ?? []) visit(p);
    return hits;
}

/** `source:line:column: <label> in "…excerpt…"` */
export function formatHit(h: SecretHit): string {
    return `${h.source}:${h.line}:${h.column}: ${h.label} in "${h.excerpt}"`;
}

/** Throws, listing every hit (labels and redacted excerpts only), unless the inputs are clean. */
export function assertNoSecrets(inputs: ScanInputs, spec: SecretSpec): void {
    const hits = scanForSecrets(inputs, spec);
    if (hits.length > 0) throw new Error(`${hits.length} secret leak(s):\n${hits.map((h) => `  ${formatHit(h)}`).join("\n")}`);
}
