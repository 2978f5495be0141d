/**
 * The shared raw-value reader of the section parsers: it holds the stack's values under the
 * project's namespace, refuses unknown keys (with a "did you mean"), reads typed values with
 * their fallbacks, and collects every problem so that one `pulumi preview` reports all of them.
 * Messages name the key, the offending value (never a secret key's, and never a URL's
 * credentials) and the fix. Pure: no Pulumi.
 */
import * as path from "node:path";
import { redactUrlCredentials } from "../oci/reference";
import { KNOWN_KEYS, SECRET_KEYS } from "./keys";

export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(
            `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

export interface ParseContext {
    /** Pulumi project name: config keys live under `<project>:`. */
    project: string;
    stack: string;
    /** Directory relative paths in config are resolved against (the project directory). */
    projectDir: string;
}

/** A Go duration as Flux and Kubernetes take it. */
const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
/** A Kubernetes object name (and kind cluster name). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** One stack's raw values, read key by key; the problems found so far. */
export class ConfigReader {
    /** `<project>:`, in front of every key a message names. */
    readonly prefix: string;
    readonly problems: string[] = [];
    private readonly values: Record<string, string> = {};

    /** @param raw every config value of the stack by full key (`<project>:<key>`), decrypted. */
    constructor(raw: Record<string, string | undefined>, private readonly ctx: ParseContext) {
        this.prefix = `${ctx.project}:`;
        for (const [fullKey, value] of Object.entries(raw)) {
            if (!fullKey.startsWith(this.prefix) || value === undefined) continue;
            const key = fullKey.slice(this.prefix.length);
            if (!(key in KNOWN_KEYS)) {
                const hint = suggest(key, Object.keys(KNOWN_KEYS));
                this.problem(`${fullKey}: unknown key${hint ? `; did you mean ${this.prefix}${hint}?` : ""} (remove it with 'pulumi config rm ${fullKey}')`);
                continue;
            }
            this.values[key] = value;
        }
    }

    /** Records a problem as written. */
    problem(message: string): void {
        this.problems.push(message);
    }

    /** Records `<project>:<key> = <value>: <fix>`, the value hidden for secret keys and URL credentials. */
    bad(key: string, value: string, fix: string): void {
        // URLs (registryUrl, fluxInstallManifest, kyvernoRepository) may carry user:password@: never echo it.
        const shown = SECRET_KEYS.has(key) ? "[secret]" : JSON.stringify(redactUrlCredentials(value));
        this.problem(`${this.prefix}${key} = ${shown}: ${fix}`);
    }

    /** The value of `key`; undefined when unset or empty. */
    str(key: string): string | undefined {
        const v = this.values[key];
        return v === undefined || v === "" ? undefined : v;
    }

    /** Reports each of `keys` that is set as one that does not apply, with `fix`. */
    refuse(keys: readonly string[], fix: string): void {
        for (const key of keys) {
            const v = this.str(key);
            if (v !== undefined) this.bad(key, v, fix);
        }
    }

    oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
        const v = this.str(key);
        if (v === undefined) return fallback;
        if ((allowed as readonly string[]).includes(v)) return v as T;
        this.bad(key, v, `must be one of ${allowed.join(" | ")} (set it with 'pulumi config set ${key} ${fallback}')`);
        return fallback;
    }

    bool(key: string, fallback: boolean): boolean {
        const v = this.str(key);
        if (v === undefined) return fallback;
        if (v === "true" || v === "false") return v === "true";
        this.bad(key, v, "must be true or false");
        return fallback;
    }

    /** A Go duration (checked, the fallback too). */
    duration(key: string, fallback: string): string {
        const v = this.str(key) ?? fallback;
        if (!GO_DURATION.test(v)) this.bad(key, v, 'must be a Go duration such as "30s", "5m" or "1h30m"');
        return v;
    }

    port(key: string, fallback: number): number {
        const v = this.str(key);
        if (v === undefined) return fallback;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 65535) this.bad(key, v, "must be a TCP port between 1 and 65535");
        return n;
    }

    /** A path from config, absolute: relative paths start at the project directory. */
    resolvePath(p: string): string {
        return path.isAbsolute(p) ? p : path.resolve(this.ctx.projectDir, p);
    }

    /** Throws one ConfigError listing every problem, if there is any. */
    throwIfProblems(): void {
        if (this.problems.length > 0) throw new ConfigError(this.problems);
    }
}

/** Converts a validated Go duration to whole seconds (rounded up). */
export function durationSeconds(duration: string): number {
    const units: Record<string, number> = { ns: 1e-9, us: 1e-6, "µs": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
    let total = 0;
    for (const m of duration.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * units[m[2]];
    return Math.ceil(total);
}

/** Closest known key within edit distance 3, for "did you mean" hints. */
function suggest(key: string, known: string[]): string | undefined {
    let best: { key: string; distance: number } | undefined;
    for (const candidate of known) {
        const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
        if (d <= 3 && (!best || d < best.distance)) best = { key: candidate, distance: d };
    }
    return best?.key;
}

function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let previous = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const current = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
            previous = current;
        }
    }
    return row[b.length];
}
