/**
 * Policy-directory problems as people read them. The loader produces structured problems (file,
 * line, cause, detail); this module groups them by cause, says each cause's explanation and fix
 * once, caps every group, and works out `.sourceignore` patterns that would leave out the files that
 * are not Kyverno policies at all (test steps, sample resources, …). Pure: no I/O.
 */
import * as path from "node:path";
import { IgnoreMatcher, parseIgnoreFile } from "./ignore";

/** Why a file was refused. Stable strings: `--output json` prints them. */
export type ProblemCause =
    | "not-a-policy"
    | "not-an-object"
    | "test-assertion"
    | "misplaced-kustomization"
    | "invalid-yaml"
    | "yaml-bomb"
    | "not-utf8"
    | "too-large"
    | "invalid-policy"
    | "duplicate-policy"
    | "kustomization"
    | "kustomization-resource"
    | "not-in-kustomization"
    | "symlink"
    | "directory";

/** One problem found while loading a policy directory. */
export interface PolicyProblem {
    /** Relative to the policy directory, forward slashes ("." for the directory itself). */
    file: string;
    /** 1-based, when known. */
    line?: number;
    cause: ProblemCause;
    /** What is wrong with this file, without the cause's shared explanation and fix. */
    detail: string;
    /** The whole sentence: detail, and the explanation and fix when the cause has shared ones. */
    message: string;
}

export interface CauseSpec {
    /** Group heading. */
    title: string;
    /** Why this is refused, said once per group. */
    explanation: string;
    /** The fix shared by the whole group; absent when each detail carries its own. */
    fix?: string;
    /** Whether a single problem's message repeats the explanation (true) or only the fix. */
    explainInMessage?: boolean;
    /** The file is not a Kyverno policy at all, so leaving it out of the artifact is a fix. */
    nonPolicy?: boolean;
}

const LEAVE_OUT = "move the file out of the policy directory or list it in .sourceignore";

/** Heading, explanation and fix of every cause, in the order groups are listed on a tie. */
export const PROBLEM_CAUSES: Record<ProblemCause, CauseSpec> = {
    "not-a-policy": {
        title: "not a Kyverno policy",
        explanation:
            "only Kyverno policy kinds (kyverno.io ClusterPolicy/Policy/PolicyException/CleanupPolicy/ClusterCleanupPolicy, " +
            "policies.kyverno.io ValidatingPolicy, MutatingPolicy, … ) and kustomization.yaml ship in the artifact",
        fix: LEAVE_OUT,
        explainInMessage: true,
        nonPolicy: true,
    },
    "not-an-object": {
        title: "not a Kubernetes object",
        explanation: "every document must be a Kyverno policy with apiVersion and kind",
        fix: `fix it or ${LEAVE_OUT}`,
        explainInMessage: true,
        nonPolicy: true,
    },
    "test-assertion": {
        title: "test assertion, not a policy",
        explanation: "a Kyverno kind with a status and no spec is a test's expected state (a chainsaw or kuttl assert), not a policy",
        fix: LEAVE_OUT,
        explainInMessage: true,
        nonPolicy: true,
    },
    "misplaced-kustomization": {
        title: "kustomize Kustomization outside kustomization.yaml",
        explanation: "kustomize reads a Kustomization only from a file named kustomization.yaml",
        fix: `rename the file, or ${LEAVE_OUT}`,
        nonPolicy: true,
    },
    "invalid-yaml": {
        title: "invalid YAML",
        explanation: "every .yaml/.yml file that ships must parse",
        fix: "fix the syntax (check indentation, quoting and duplicate keys)",
    },
    "yaml-bomb": { title: "YAML bomb", explanation: "expanding the aliases would exhaust the memory of whatever reads the file" },
    "not-utf8": { title: "not UTF-8", explanation: "Kubernetes reads manifests as UTF-8" },
    "too-large": { title: "file too large", explanation: "files are size-limited so a stray dump cannot bloat the artifact" },
    "invalid-policy": { title: "invalid Kyverno policy", explanation: "Kyverno or the API server would reject these documents" },
    "duplicate-policy": {
        title: "duplicate policy",
        explanation: "policies with the same kind, namespace and name overwrite each other in the cluster",
        fix: "rename one of them or delete the duplicate",
    },
    kustomization: {
        title: "kustomization",
        explanation: "a kustomization.yaml replaces the one kustomize-controller generates, so only what it lists is applied",
    },
    "kustomization-resource": {
        title: "kustomization lists a file that does not ship",
        explanation: "kustomize fails on a resources entry that is not in the artifact",
        fix: "fix the path or remove the entry",
    },
    "not-in-kustomization": {
        title: "policy left out of the root kustomization",
        explanation: "Flux applies only what the root kustomization.yaml lists",
        fix: "add it to resources or move it out of the policy directory",
    },
    symlink: { title: "symlink", explanation: "the artifact holds regular files, and links must stay inside the policy directory" },
    directory: { title: "policy directory", explanation: "the directory itself cannot be shipped" },
};

/** The full message of one problem (what `PolicyLoadError.message` and `--output json` say). */
export function problemMessage(cause: ProblemCause, detail: string): string {
    const spec = PROBLEM_CAUSES[cause];
    if (spec.fix === undefined) return detail;
    return spec.explainInMessage ? `${detail}; ${spec.explanation} — ${spec.fix}` : `${detail}; ${spec.fix}`;
}

/** Everything one failed load knows, as the formatter needs it. */
export interface ProblemReport {
    /** The policy directory as the user named it. */
    root: string;
    problems: PolicyProblem[];
    /** Files holding at least one valid policy: a suggested pattern must never leave them out. */
    policyFiles: string[];
}

/** Problem lines shown per group before "… and N more". */
export const MAX_LINES_PER_GROUP = 20;

export interface ProblemGroup {
    cause: ProblemCause;
    spec: CauseSpec;
    problems: PolicyProblem[];
}

/** Problems by cause, the largest group first (ties in {@link PROBLEM_CAUSES} order). */
export function groupProblems(problems: PolicyProblem[]): ProblemGroup[] {
    const order = Object.keys(PROBLEM_CAUSES) as ProblemCause[];
    const groups = new Map<ProblemCause, PolicyProblem[]>();
    for (const p of problems) {
        const list = groups.get(p.cause);
        if (list) list.push(p);
        else groups.set(p.cause, [p]);
    }
    return [...groups.entries()]
        .map(([cause, ps]) => ({ cause, spec: PROBLEM_CAUSES[cause], problems: ps }))
        .sort((a, b) => b.problems.length - a.problems.length || order.indexOf(a.cause) - order.indexOf(b.cause));
}

/** `path:line` or `path`. */
export function problemLocation(p: Pick<PolicyProblem, "file" | "line">): string {
    return p.line !== undefined ? `${p.file}:${p.line}` : p.file;
}

/** A `.sourceignore` line and the files with problems it leaves out. */
export interface SourceignoreSuggestion {
    pattern: string;
    files: string[];
}

const isKustomizationFile = (f: string) => /(^|\/)kustomization\.ya?ml$/.test(f);
const basename = (f: string) => f.slice(f.lastIndexOf("/") + 1);
/** gitignore escaping, so a name is matched literally. */
const literal = (s: string) => s.replace(/[\\*?[\]]/g, "\\$&").replace(/ $/, "\\ ");

function ancestors(f: string): string[] {
    const out: string[] = [];
    for (let i = f.indexOf("/"); i >= 0; i = f.indexOf("/", i + 1)) out.push(f.slice(0, i));
    return out;
}

/** `chainsaw-test.yaml` → `-test.yaml`; `01-assert.yaml` → `-assert.yaml`; none without a separator. */
function nameSuffix(name: string): string | undefined {
    const dot = name.lastIndexOf(".");
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const sep = Math.max(stem.lastIndexOf("-"), stem.lastIndexOf("_"));
    return sep > 0 ? name.slice(sep) : undefined;
}

/**
 * Files whose problems all say "not a Kyverno policy" (and that hold no valid policy), and the
 * files a pattern must never touch: those holding policies, and those whose problems need a real fix.
 * Kustomization files are neither: their problems usually vanish with the files they list.
 */
function classifyFiles(report: ProblemReport): { target: string[]; keep: string[] } {
    const byFile = new Map<string, PolicyProblem[]>();
    for (const p of report.problems) {
        const list = byFile.get(p.file);
        if (list) list.push(p);
        else byFile.set(p.file, [p]);
    }
    const policyFiles = new Set(report.policyFiles);
    const target: string[] = [];
    const keep = new Set(report.policyFiles.filter((f) => !isKustomizationFile(f)));
    for (const [file, ps] of byFile) {
        if (file === "." || policyFiles.has(file)) continue;
        if (ps.every((p) => PROBLEM_CAUSES[p.cause].nonPolicy)) target.push(file);
        else if (!isKustomizationFile(file)) keep.add(file);
    }
    return { target: target.sort(), keep: [...keep] };
}

type CandidateKind = 0 | 1 | 2 | 3; // directory name, directory, file name, file-name pattern

/**
 * `.sourceignore` lines (gitignore syntax, for the policy directory's root `.sourceignore`) that
 * leave out every file whose only problems are "not a Kyverno policy" and nothing that holds a
 * policy or needs a real fix. Whole directories first, then names (`**\/.chainsaw-test/`,
 * `chainsaw-test.yaml`), then name patterns (`*-assert.yaml`), then single files. Checked with the
 * loader's own matcher before being returned.
 */
export function suggestSourceignore(report: ProblemReport): SourceignoreSuggestion[] {
    const { target, keep } = classifyFiles(report);
    if (target.length === 0) return [];
    // Candidates and the target files each leaves out. Directories by path come from an index;
    // names recur, so there are few, and a predicate checks them (gitignore: a name without a slash
    // matches files and directories at any depth, `**/n/` only directories).
    const scored: { pattern: string; kind: CandidateKind; files: string[] }[] = [];
    const underDir = new Map<string, string[]>();
    const group = (m: Map<string, Set<string>>, key: string, f: string) => m.set(key, (m.get(key) ?? new Set()).add(f));
    const dirNames = new Map<string, Set<string>>();
    const names = new Map<string, Set<string>>();
    const suffixes = new Map<string, Set<string>>();
    for (const f of target) {
        for (const d of ancestors(f)) {
            const list = underDir.get(d);
            if (list) list.push(f);
            else underDir.set(d, [f]);
            group(dirNames, basename(d), d);
        }
        group(names, basename(f), f);
        const s = nameSuffix(basename(f));
        if (s !== undefined) group(suffixes, s, f);
    }
    const keepDirs = new Set(keep.flatMap(ancestors));
    for (const [d, files] of underDir) if (files.length > 1 && !keepDirs.has(d)) scored.push({ pattern: `/${literal(d)}/`, kind: 1, files });
    const components = new Map([...target, ...keep].map((x) => [x, x.split("/")]));
    const byPredicate = (pattern: string, kind: CandidateKind, hits: (parts: string[]) => boolean) => {
        if (!keep.some((x) => hits(components.get(x)!))) scored.push({ pattern, kind, files: target.filter((x) => hits(components.get(x)!)) });
    };
    // A name is worth a pattern only when it recurs; a lone file is named by its path.
    for (const [n, ds] of dirNames) if (ds.size > 1) byPredicate(`**/${literal(n)}/`, 0, (c) => c.slice(0, -1).includes(n));
    for (const [n, fs] of names) if (fs.size > 1) byPredicate(literal(n), 2, (c) => c.includes(n));
    for (const [sfx, fs] of suffixes) if (fs.size > 1) byPredicate(`*${literal(sfx)}`, 3, (c) => c.some((x) => x.endsWith(sfx)));

    const uncovered = new Set(target);
    const chosen: SourceignoreSuggestion[] = [];
    for (;;) {
        let best: (typeof scored)[number] | undefined;
        let bestGain = 1;
        for (const c of scored) {
            const gain = c.files.filter((f) => uncovered.has(f)).length;
            if (gain > bestGain || (gain === bestGain && best && (c.kind < best.kind || (c.kind === best.kind && c.pattern.length < best.pattern.length)))) {
                best = c;
                bestGain = gain;
            }
        }
        if (!best) break;
        chosen.push({ pattern: best.pattern, files: best.files.filter((f) => uncovered.has(f)) });
        for (const f of best.files) uncovered.delete(f);
    }
    for (const f of uncovered) chosen.push({ pattern: `/${literal(f)}`, files: [f] });

    // The loader decides what ships; make sure it reads these lines the way we meant them.
    const all = new IgnoreMatcher(parseIgnoreFile(chosen.map((c) => c.pattern).join("\n")));
    if (keep.some((f) => all.ignores(f, false)) || target.some((f) => !all.ignores(f, false))) {
        return target.map((f) => ({ pattern: `/${literal(f)}`, files: [f] }));
    }
    return chosen;
}

/** How many problems the suggested lines clear (those of kustomizations listing only such files too). */
function clearedBy(report: ProblemReport, suggestions: SourceignoreSuggestion[]): number {
    if (suggestions.length === 0) return 0;
    const m = new IgnoreMatcher(parseIgnoreFile(suggestions.map((s) => s.pattern).join("\n")));
    return report.problems.filter((p) => p.file !== "." && m.ignores(p.file, false)).length;
}

export interface FormatOptions {
    /** Problem lines per group. Defaults to {@link MAX_LINES_PER_GROUP}. */
    maxLinesPerGroup?: number;
    /** Said after the summary when something was left out, e.g. how to get the full list. */
    fullListHint?: string;
}

/**
 * The report as text: a summary line, then one block per cause (heading with the count, why, what
 * to do, then one problem per line, at most `maxLinesPerGroup`, then "… and N more"), then the
 * `.sourceignore` lines when most problems are in files that are not policies.
 */
export function formatPolicyProblems(report: ProblemReport, opts: FormatOptions = {}): string {
    const max = opts.maxLinesPerGroup ?? MAX_LINES_PER_GROUP;
    const n = report.problems.length;
    const files = new Set(report.problems.map((p) => p.file)).size;
    const out = [`${n} problem${n === 1 ? "" : "s"} in policy directory ${report.root}${files > 1 ? ` (${files} files)` : ""}:`];
    let truncated = false;
    for (const g of groupProblems(report.problems)) {
        const k = g.problems.length;
        out.push("", `${g.spec.title} (${k} problem${k === 1 ? "" : "s"}):`, `  why: ${g.spec.explanation}`);
        if (g.spec.fix) out.push(`  what to do: ${g.spec.fix}`);
        for (const p of g.problems.slice(0, max)) out.push(`  ${problemLocation(p)}: ${p.detail}`);
        if (k > max) {
            out.push(`  … and ${k - max} more`);
            truncated = true;
        }
    }
    const suggestions = suggestionsFor(report);
    if (suggestions.length > 0) {
        const lines = suggestions.map((s) => s.pattern);
        const nonPolicy = suggestions.reduce((k, s) => k + s.files.length, 0);
        out.push(
            "",
            `${nonPolicy} file${nonPolicy === 1 ? " is" : "s are"} not Kyverno policies; leaving them out clears ${clearedBy(report, suggestions)} of the ${n} problems.`,
            `To leave them out of the artifact, add these lines to ${path.join(report.root, ".sourceignore")} (Flux honours it too):`,
            "",
            ...lines.slice(0, max),
        );
        if (lines.length > max) {
            out.push(`… and ${lines.length - max} more`);
            truncated = true;
        }
    }
    if (truncated && opts.fullListHint) out.push("", opts.fullListHint);
    return out.join("\n");
}

/** Suggestions, but only when most problems are in files that are not policies. */
export function suggestionsFor(report: ProblemReport): SourceignoreSuggestion[] {
    const s = suggestSourceignore(report);
    return clearedBy(report, s) * 2 > report.problems.length ? s : [];
}

/** The machine-readable report (`--output json`): every problem, and the suggestions. */
export function problemsJson(report: ProblemReport): {
    root: string;
    problems: { file: string; line: number | null; cause: ProblemCause; message: string }[];
    suggestions: SourceignoreSuggestion[];
} {
    return {
        root: report.root,
        problems: report.problems.map((p) => ({ file: p.file, line: p.line ?? null, cause: p.cause, message: p.message })),
        suggestions: suggestionsFor(report),
    };
}

