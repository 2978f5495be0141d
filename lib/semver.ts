/**
 * Tag/range checks with Flux's semantics. source-controller picks OCI tags for `ref.semver` with
 * fluxcd/pkg `version.ParseVersion` (Masterminds/semver v3 `NewVersion`, but only for strings with
 * three dot-separated parts) and Masterminds constraints. We reproduce those rules and use the npm
 * `semver` package for the comparisons:
 *  - tags: optional leading "v", numbers may have leading zeros (v2025.02.03), major.minor.patch all
 *    required, prerelease identifiers must not be numeric with a leading zero;
 *  - ranges: Masterminds syntax — comparators joined by "," or spaces (AND) and "||" (OR), operators
 *    = != > < >= <= => =< ~ ~> ^, x/X/* wildcards and "a - b" hyphen ranges;
 *  - prereleases match only when the constraint group opts in by naming a prerelease (Masterminds'
 *    rule, approximated per "||" group).
 */
import * as semver from "semver";

/** OCI distribution-spec tag grammar. */
const OCI_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** Masterminds/semver v3 loose version grammar (NewVersion). */
const LOOSE_VERSION =
    /^v?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/**
 * Parses a tag the way Flux does and returns the normalised semver (no "v", no leading zeros).
 * @throws Error naming the tag and what is wrong with it
 */
export function parseFluxVersion(tag: string): semver.SemVer {
    if (tag.split(".").length < 3) {
        throw new Error(`tag "${tag}" is not a semantic version: Flux needs MAJOR.MINOR.PATCH (e.g. 1.2.3 or v1.2.3)`);
    }
    const m = LOOSE_VERSION.exec(tag);
    if (!m || m[2] === undefined || m[3] === undefined) {
        throw new Error(`tag "${tag}" is not a semantic version: use MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], optionally prefixed with "v"`);
    }
    const pre = m[4];
    if (pre && pre.split(".").some((id) => /^0\d+$/.test(id))) {
        throw new Error(`tag "${tag}" is not a semantic version: numeric prerelease identifiers must not have leading zeros`);
    }
    const norm = `${BigInt(m[1])}.${BigInt(m[2])}.${BigInt(m[3])}${pre ? `-${pre}` : ""}${m[5] ? `+${m[5]}` : ""}`;
    const v = semver.parse(norm);
    if (!v) throw new Error(`tag "${tag}" is not a semantic version`);
    return v;
}

interface Group {
    text: string;
    range: semver.Range;
    notEqual: semver.Range[];
    allowsPrerelease: boolean;
}

/** A parsed Masterminds-style constraint. */
export interface FluxRange {
    raw: string;
    groups: Group[];
}

/**
 * Parses and validates a semver range in Flux's (Masterminds) syntax.
 * @throws Error naming the range and the offending part
 */
export function parseFluxRange(range: string): FluxRange {
    if (range.trim() === "") throw new Error(`semver range is empty: give a range such as ">=1.0.0 <2.0.0" or "^1.2"`);
    const groups: Group[] = [];
    for (const part of range.split("||")) {
        const text = part.trim();
        if (text === "") throw new Error(`semver range "${range}" has an empty alternative around "||"`);
        const tokens = text
            .replace(/,/g, " ")
            // Masterminds allows a space between operator and version: "> 1.2".
            .replace(/(=>|=<|>=|<=|!=|~>|[<>=~^])\s+(?=[vV0-9xX*])/g, "$1")
            .split(/\s+/)
            .filter(Boolean);
        const keep: string[] = [];
        const notEqual: semver.Range[] = [];
        for (let t of tokens) {
            t = t.replace(/^=>/, ">=").replace(/^=</, "<=").replace(/^~>/, "~");
            if (t.startsWith("!=")) {
                const r = tryRange(t.slice(2));
                if (!r) throw new Error(`semver range "${range}": "${t}" is not a valid comparator`);
                notEqual.push(r);
            } else {
                keep.push(t);
            }
        }
        const body = keep.join(" ") || "*";
        const r = tryRange(body);
        if (!r) throw new Error(`semver range "${range}": "${text}" is not a valid constraint (use e.g. ">=1.2.0 <2.0.0", "~1.2", "^1", "1.x")`);
        groups.push({ text, range: r, notEqual, allowsPrerelease: /\d-[0-9A-Za-z]/.test(text) });
    }
    return { raw: range, groups };
}

function tryRange(s: string): semver.Range | undefined {
    try {
        return new semver.Range(s, { loose: true, includePrerelease: true });
    } catch {
        return undefined;
    }
}

/** Whether a parsed version satisfies a parsed range (Masterminds semantics as above). */
export function satisfiesFluxRange(v: semver.SemVer, r: FluxRange): boolean {
    return r.groups.some((g) => {
        if (v.prerelease.length > 0 && !g.allowsPrerelease) return false;
        if (!g.range.test(v)) return false;
        return !g.notEqual.some((ne) => ne.test(v));
    });
}

/**
 * Checks that `tag` is a valid OCI tag and semantic version (as Flux parses it) and satisfies
 * `range`. Returns the normalised version string.
 * @throws Error with a message that says which of the three checks failed and how to fix it
 */
export function checkTagAgainstRange(tag: string, range: string): string {
    if (!OCI_TAG.test(tag)) {
        const hint = tag.includes("+") ? ' (OCI tags cannot contain "+"; Flux-compatible tools write build metadata with "_" or drop it)' : "";
        throw new Error(`tag "${tag}" is not a valid OCI tag${hint}: use letters, digits, "_", "." and "-", at most 128 characters, not starting with "." or "-"`);
    }
    const r = parseFluxRange(range);
    const v = parseFluxVersion(tag);
    if (!satisfiesFluxRange(v, r)) {
        const pre = v.prerelease.length > 0 ? "; prerelease tags match only ranges that name a prerelease (e.g. >=1.2.0-0)" : "";
        throw new Error(`tag "${tag}" (version ${v.version}) does not satisfy the semver range "${range}"${pre}; choose a tag inside the range or widen the range`);
    }
    return v.version;
}
