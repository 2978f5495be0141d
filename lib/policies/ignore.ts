/**
 * A small gitignore matcher with Flux's source defaults.
 *
 * Flux (fluxcd/pkg `sourceignore`) excludes VCS metadata, some binary extensions, CI config and a few
 * tool files by default, and honours `.sourceignore` files (gitignore syntax) found anywhere in the
 * tree, each scoped to its own directory. We mirror that so what we validate and ship is what Flux
 * would see. Semantics follow git (not go-git's looser variant): the last matching pattern wins, a
 * `!` pattern re-includes, and nothing below an excluded directory can be re-included because the
 * walk never descends into it.
 */

/** `sourceignore.ExcludeVCS` in fluxcd/pkg. */
export const FLUX_EXCLUDE_VCS = [".git/", ".gitignore", ".gitmodules", ".gitattributes"];
/** `sourceignore.ExcludeExt` in fluxcd/pkg. */
export const FLUX_EXCLUDE_EXT = ["*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip"];
/** `sourceignore.ExcludeCI` in fluxcd/pkg. */
export const FLUX_EXCLUDE_CI = [
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
];
/** `sourceignore.ExcludeExtra` in fluxcd/pkg. */
export const FLUX_EXCLUDE_EXTRA = ["**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml"];
/** All of Flux's default exclusions, lowest priority first. */
export const FLUX_DEFAULT_IGNORES = [...FLUX_EXCLUDE_VCS, ...FLUX_EXCLUDE_EXT, ...FLUX_EXCLUDE_CI, ...FLUX_EXCLUDE_EXTRA];

/** Name of the per-directory ignore file Flux reads. */
export const SOURCEIGNORE_FILE = ".sourceignore";

/** One parsed gitignore line. */
export interface IgnorePattern {
    /** The line as written (for messages). */
    source: string;
    /** Directory the pattern is scoped to, relative to the root, "" for the root. */
    domain: string;
    negate: boolean;
    dirOnly: boolean;
    regex: RegExp;
}

/**
 * Parses one gitignore line. Returns undefined for blank lines and comments.
 * @param line the raw line (without its newline)
 * @param domain directory (relative, forward slashes, "" for root) the pattern is scoped to
 */
export function parseIgnorePattern(line: string, domain = ""): IgnorePattern | undefined {
    let p = line.replace(/\r$/, "");
    if (p.trim() === "" || p.startsWith("#")) return undefined;
    // Trailing spaces are ignored unless escaped with a backslash (git rule).
    p = p.replace(/(?<!\\)\s+$/, "");
    if (p.endsWith("\\ ")) p = p.slice(0, -2) + " ";
    let negate = false;
    if (p.startsWith("!")) {
        negate = true;
        p = p.slice(1);
    } else if (p.startsWith("\\!") || p.startsWith("\\#")) {
        p = p.slice(1);
    }
    let dirOnly = false;
    if (p.endsWith("/") && !p.endsWith("\\/")) {
        dirOnly = true;
        p = p.replace(/\/+$/, "");
    }
    if (p === "") return undefined;
    // A slash anywhere but the end anchors the pattern to its domain; otherwise it matches a name
    // at any depth.
    const anchored = p.includes("/");
    if (p.startsWith("/")) p = p.slice(1);
    const body = globToRegex(p);
    const regex = new RegExp(anchored ? `^${body}$` : `^(?:[\\s\\S]*/)?${body}$`);
    return { source: line, domain: trimSlashes(domain), negate, dirOnly, regex };
}

/** Parses the content of a `.sourceignore` file (gitignore syntax). */
export function parseIgnoreFile(content: string, domain = ""): IgnorePattern[] {
    const out: IgnorePattern[] = [];
    for (const line of content.split("\n")) {
        const p = parseIgnorePattern(line, domain);
        if (p) out.push(p);
    }
    return out;
}

/**
 * Ordered pattern list; later patterns take priority (gitignore rule). Paths are relative to the
 * root, with forward slashes.
 */
export class IgnoreMatcher {
    private readonly patterns: IgnorePattern[];

    constructor(patterns: IgnorePattern[] = []) {
        this.patterns = [...patterns];
    }

    /** A matcher with Flux's default exclusions, then `extra` patterns (root-scoped). */
    static withFluxDefaults(extra: string[] = []): IgnoreMatcher {
        const ps: IgnorePattern[] = [];
        for (const line of [...FLUX_DEFAULT_IGNORES, ...extra]) {
            const p = parseIgnorePattern(line, "");
            if (p) ps.push(p);
        }
        return new IgnoreMatcher(ps);
    }

    /** A new matcher with `patterns` added at the highest priority. */
    with(patterns: IgnorePattern[]): IgnoreMatcher {
        return new IgnoreMatcher([...this.patterns, ...patterns]);
    }

    /**
     * Whether this exact path is excluded, without looking at its parents (the directory walk
     * checks parents on the way down). Returns the deciding pattern, if any.
     */
    matchSelf(relPath: string, isDir: boolean): { ignored: boolean; pattern?: IgnorePattern } {
        for (let i = this.patterns.length - 1; i >= 0; i--) {
            const p = this.patterns[i];
            if (p.dirOnly && !isDir) continue;
            let sub = relPath;
            if (p.domain !== "") {
                if (!relPath.startsWith(p.domain + "/")) continue;
                sub = relPath.slice(p.domain.length + 1);
            }
            if (p.regex.test(sub)) return { ignored: !p.negate, pattern: p };
        }
        return { ignored: false };
    }

    /** Whether a path is excluded, including because one of its parent directories is. */
    ignores(relPath: string, isDir: boolean): boolean {
        const parts = trimSlashes(relPath).split("/");
        for (let i = 1; i < parts.length; i++) {
            if (this.matchSelf(parts.slice(0, i).join("/"), true).ignored) return true;
        }
        return this.matchSelf(parts.join("/"), isDir).ignored;
    }
}

function trimSlashes(s: string): string {
    return s.replace(/^\/+|\/+$/g, "");
}

/**
 * Converts a gitignore glob (already stripped of `!`, leading and trailing `/`) to a regex body.
 * `*` and `?` never cross `/`; `**` as a whole segment spans any number of segments.
 */
function globToRegex(glob: string): string {
    const segs = glob.split("/");
    let out = "";
    for (let i = 0; i < segs.length; i++) {
        const seg = segs[i];
        const last = i === segs.length - 1;
        if (seg === "**") {
            if (last) {
                // "a/**": everything inside a (at least one more segment).
                out += i === 0 ? "[\\s\\S]*" : "[\\s\\S]+";
            } else {
                // "**/b" or "a/**/b": zero or more whole segments.
                out += "(?:[^/]+/)*";
            }
            continue;
        }
        out += segmentToRegex(seg);
        if (!last) out += "/";
    }
    // "a/**" produced "a/" + "[\s\S]+", which is what git means (contents, not a itself).
    return out;
}

function segmentToRegex(seg: string): string {
    let out = "";
    for (let i = 0; i < seg.length; i++) {
        const c = seg[i];
        if (c === "\\" && i + 1 < seg.length) {
            out += escapeRegex(seg[++i]);
        } else if (c === "*") {
            while (seg[i + 1] === "*") i++; // "a**b" is an ordinary star (git rule)
            out += "[^/]*";
        } else if (c === "?") {
            out += "[^/]";
        } else if (c === "[") {
            const end = findClassEnd(seg, i);
            if (end < 0) {
                out += "\\[";
                continue;
            }
            let body = seg.slice(i + 1, end);
            let neg = false;
            if (body.startsWith("!") || body.startsWith("^")) {
                neg = true;
                body = body.slice(1);
            }
            const cls = body.replace(/\\(.)/g, "$1").replace(/[\\\]\[^]/g, (m) => "\\" + m);
            out += neg ? `(?!/)[^${cls}]` : `[${cls}]`;
            i = end;
        } else {
            out += escapeRegex(c);
        }
    }
    return out;
}

function findClassEnd(seg: string, start: number): number {
    let j = start + 1;
    if (seg[j] === "!" || seg[j] === "^") j++;
    if (seg[j] === "]") j++; // a leading "]" is literal
    for (; j < seg.length; j++) {
        if (seg[j] === "\\") j++;
        else if (seg[j] === "]") return j;
    }
    return -1;
}

function escapeRegex(c: string): string {
    return c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}
