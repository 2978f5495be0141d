/**
 * The grouped policy-directory report (lib/policies/problems.ts): grouping, caps, explanations said
 * once, `.sourceignore` suggestions checked by re-loading, and the CLI's text and JSON on a
 * 400-file library whose test fixtures sit beside the policies.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { main } from "../../cli/artifact";
import {
    formatPolicyProblems,
    IgnoreMatcher,
    loadPolicyDir,
    parseIgnoreFile,
    PolicyLoadAggregateError,
    PolicyLoadError,
    problemsJson,
    PROBLEM_CAUSES,
    suggestSourceignore,
    suggestionsFor,
    type ProblemCause,
    type ProblemReport,
} from "../../lib/policies";
import { writePolicyLibrary } from "../fixtures/library";
import { clusterPolicy, tempDir, writeTree } from "../fixtures/tree";

const p = (file: string, cause: ProblemCause = "not-a-policy", line: number | null = 2) => new PolicyLoadError(file, line ?? undefined, cause, `${file} detail`);
const report = (problems: PolicyLoadError[], policyFiles: string[] = []): ProblemReport => ({ root: "/repo/policies", problems, policyFiles });

/** The pattern lines the report says to paste (between the instruction and the next blank line). */
function pastedLines(text: string): string[] {
    const lines = text.split("\n");
    const at = lines.findIndex((l) => l.startsWith("To leave them out of the artifact, add these lines to "));
    if (at < 0) return [];
    const end = lines.indexOf("", at + 2);
    return lines.slice(at + 2, end < 0 ? undefined : end);
}

/** Loads `dir`, expecting it to fail. */
async function refused(dir: string): Promise<PolicyLoadAggregateError> {
    try {
        await loadPolicyDir(dir);
    } catch (e) {
        assert.ok(e instanceof PolicyLoadAggregateError, String(e));
        return e;
    }
    assert.fail(`expected ${dir} to be refused`);
}

describe("formatPolicyProblems", () => {
    const cases: { name: string; problems: PolicyLoadError[]; max?: number; expect: RegExp[]; absent?: RegExp[] }[] = [
        {
            name: "one problem: summary, heading, why, what to do, the line",
            problems: [p("secret.yaml")],
            expect: [/^1 problem in policy directory \/repo\/policies:\n\nnot a Kyverno policy \(1 problem\):\n  why: only Kyverno policy kinds .* ship in the artifact\n  what to do: move the file out of the policy directory or list it in \.sourceignore\n  secret\.yaml:2: secret\.yaml detail$/m],
            absent: [/… and/, /Every problem/],
        },
        {
            name: "25 problems of one cause: 20 lines, then '… and 5 more', then the hint",
            problems: Array.from({ length: 25 }, (_, i) => p(`t/${String(i).padStart(2, "0")}.yaml`)),
            expect: [/not a Kyverno policy \(25 problems\):/, /  t\/19\.yaml:2: .*\n  … and 5 more\n/, /\n\nEvery problem: --output json$/],
            absent: [/t\/20\.yaml/],
        },
        {
            name: "a lower cap",
            problems: Array.from({ length: 4 }, (_, i) => p(`a${i}.yaml`, "invalid-policy")),
            max: 2,
            expect: [/  a1\.yaml:2: a1\.yaml detail\n  … and 2 more/],
        },
        {
            name: "largest group first; no 'what to do' when each line carries its fix; no line number when unknown",
            problems: [p("a.yaml", "invalid-policy"), p("b.yaml", "duplicate-policy"), p("c.yaml", "duplicate-policy"), p("big.yaml", "too-large", null)],
            expect: [/duplicate policy \(2 problems\):[\s\S]*invalid Kyverno policy \(1 problem\):\n  why: [^\n]*\n  a\.yaml:2: /, /file too large \(1 problem\):\n  why: [^\n]*\n  big\.yaml: big\.yaml detail/, /\(4 files\):/],
        },
    ];
    for (const c of cases) {
        test(c.name, () => {
            const text = formatPolicyProblems(report(c.problems), { maxLinesPerGroup: c.max, fullListHint: "Every problem: --output json" });
            for (const re of c.expect) assert.match(text, re);
            for (const re of c.absent ?? []) assert.doesNotMatch(text, re);
        });
    }

    test("each cause's explanation and fix appear once, however many problems share them", () => {
        const text = formatPolicyProblems(report([...Array.from({ length: 300 }, (_, i) => p(`x/${i}.yaml`)), p("y.yml", "not-an-object")]));
        for (const cause of ["not-a-policy", "not-an-object"] as const) {
            const spec = PROBLEM_CAUSES[cause];
            assert.equal(text.split(`why: ${spec.explanation}\n`).length, 2, cause);
        }
        assert.equal(text.split(`  what to do: ${PROBLEM_CAUSES["not-a-policy"].fix}\n`).length, 2);
    });

    test("JSON: every problem with file, line (null when unknown), cause and message; the suggestions", () => {
        const j = problemsJson(report([p("a/t.yaml"), p("a/u.yaml"), p("big.yaml", "too-large", null)]));
        assert.deepEqual(j.problems.map((x) => [x.file, x.line, x.cause]), [["a/t.yaml", 2, "not-a-policy"], ["a/u.yaml", 2, "not-a-policy"], ["big.yaml", null, "too-large"]]);
        assert.match(j.problems[0].message, /^a\/t\.yaml detail; only Kyverno policy kinds .* — move the file out of the policy directory or list it in \.sourceignore$/);
        assert.deepEqual(j.suggestions, [{ pattern: "/a/", files: ["a/t.yaml", "a/u.yaml"] }]);
    });
});

describe("suggestSourceignore", () => {
    const cases: { name: string; problems: PolicyLoadError[]; policyFiles?: string[]; expect: string[] }[] = [
        { name: "a lone file: its anchored path", problems: [p("oops.yaml")], expect: ["/oops.yaml"] },
        { name: "a directory of nothing but non-policies", problems: [p("tests/a.yaml"), p("tests/b.yaml", "not-an-object")], policyFiles: ["p.yaml"], expect: ["/tests/"] },
        {
            name: "a directory name that recurs, beside real policies",
            problems: [p("a/.chainsaw-test/t.yaml"), p("a/.chainsaw-test/pod.yaml"), p("b/.chainsaw-test/t.yaml"), p("b/.chainsaw-test/x-assert.yaml", "test-assertion")],
            policyFiles: ["a/a.yaml", "b/b.yaml"],
            expect: ["**/.chainsaw-test/"],
        },
        {
            name: "a file name that recurs beside policies",
            problems: [p("a/artifacthub-pkg.yml", "not-an-object"), p("b/artifacthub-pkg.yml", "not-an-object")],
            policyFiles: ["a/a.yaml", "b/b.yaml"],
            expect: ["artifacthub-pkg.yml"],
        },
        {
            name: "names sharing a suffix",
            problems: [p("a/good-pod-assert.yaml"), p("b/bad-pod-assert.yaml"), p("c/01-assert.yaml")],
            policyFiles: ["a/a.yaml", "b/b.yaml", "c/c.yaml"],
            expect: ["*-assert.yaml"],
        },
        {
            name: "a suffix a real policy also has: each file by path",
            problems: [p("a/good-pod-assert.yaml"), p("b/bad-pod-assert.yaml")],
            policyFiles: ["a/a.yaml", "b/require-assert.yaml"],
            expect: ["/a/good-pod-assert.yaml", "/b/bad-pod-assert.yaml"],
        },
        {
            name: "never a file that holds a policy, nor one that needs a real fix, nor their directories",
            problems: [p("t/mixed.yaml"), p("t/broken.yaml", "invalid-policy"), p("t/pod.yaml"), p("t/both.yaml"), p("t/both.yaml", "invalid-yaml"), p("u/pod.yaml")],
            policyFiles: ["t/mixed.yaml"],
            expect: ["pod.yaml"],
        },
        {
            name: "kustomizations that only list refused files go with their directory",
            problems: [p("x/.kyverno-test/resource.yaml"), p("x/.kyverno-test/kustomization.yaml", "kustomization-resource"), p("y/.kyverno-test/resource.yaml")],
            policyFiles: ["x/x.yaml", "y/y.yaml"],
            expect: ["**/.kyverno-test/"],
        },
        {
            name: "glob characters in names are escaped",
            problems: [p("[draft] *pod?.yaml"), p("dir#1/!x.yaml"), p("dir#1/y.yaml")],
            policyFiles: ["keep.yaml"],
            expect: ["/dir#1/", "/\\[draft\\] \\*pod\\?.yaml"],
        },
    ];
    for (const c of cases) {
        test(c.name, () => {
            const r = report(c.problems, c.policyFiles);
            const got = suggestSourceignore(r);
            assert.deepEqual(got.map((s) => s.pattern), c.expect);
            // What the loader's own matcher makes of the lines: no policy file or real problem left out.
            const m = new IgnoreMatcher(parseIgnoreFile(got.map((s) => s.pattern).join("\n")));
            for (const f of c.policyFiles ?? []) assert.ok(!m.ignores(f, false), `${f} must ship`);
            for (const s of got) for (const f of s.files) assert.ok(m.ignores(f, false), `${s.pattern} leaves out ${f}`);
        });
    }

    test("no suggestion block when non-policy files are not most of the problems", () => {
        const r = report([p("pod.yaml"), p("a.yaml", "invalid-policy"), p("b.yaml", "invalid-yaml")]);
        assert.deepEqual(suggestionsFor(r), []);
        assert.doesNotMatch(formatPolicyProblems(r), /\.sourceignore \(Flux/);
        assert.deepEqual(problemsJson(r).suggestions, []);
    });
});

describe("a policy library with its test fixtures beside the policies (400 files)", () => {
    test("grouped, capped, explained once; JSON lists every problem; the suggested .sourceignore, pasted, leaves the real policies", async () => {
        const t = tempDir();
        try {
            const lib = writePolicyLibrary(t.dir);
            assert.ok(lib.nonPolicyFiles.length >= 300, `${lib.nonPolicyFiles.length} non-policy files`);
            const e = await refused(t.dir);
            assert.ok(e.errors.length >= 300);
            const text = e.message;
            const lines = text.split("\n");
            assert.match(lines[0], new RegExp(`^${e.errors.length} problems in policy directory .* \\(\\d+ files\\):$`));
            assert.ok(Math.max(...lines.map((l) => l.length)) <= 300, "no wall of text");
            // Every group: heading with its count, why once, at most 20 problem lines, then the rest counted.
            const headings = lines.map((l, i) => [l, i] as const).filter(([l]) => /^\S.* \(\d+ problems?\):$/.test(l));
            assert.ok(headings.length >= 4, text);
            let shown = 0;
            let more = 0;
            for (const [h, i] of headings) {
                const count = Number(/\((\d+) problems?\):$/.exec(h)![1]);
                const body = lines.slice(i + 1, lines.indexOf("", i + 1));
                const problemLines = body.filter((l) => /^  [^ ].*:\d*:? /.test(l) && !/^  (why|what to do): /.test(l));
                assert.ok(problemLines.length <= 20, h);
                assert.equal(problemLines.length, Math.min(count, 20), h);
                const rest = body.find((l) => l.startsWith("  … and "));
                assert.equal(rest, count > 20 ? `  … and ${count - 20} more` : undefined, h);
                shown += problemLines.length;
                more += count > 20 ? count - 20 : 0;
            }
            assert.equal(shown + more, e.errors.length);
            for (const g of new Set(e.errors.map((x) => x.cause))) {
                assert.equal(text.split(`  why: ${PROBLEM_CAUSES[g].explanation}\n`).length, 2, `${g} explained once`);
            }
            assert.equal(text.split("only Kyverno policy kinds").length, 2, "the long explanation appears once");

            // JSON: every problem, structured.
            const j = problemsJson(e.report);
            assert.equal(j.problems.length, e.errors.length);
            assert.deepEqual(new Set(j.problems.map((x) => x.file)), new Set([...lib.nonPolicyFiles, ...lib.testKustomizations]));
            for (const x of j.problems) assert.ok(x.message.length > 0 && typeof x.cause === "string" && (x.line === null || x.line > 0));

            // The suggested lines, pasted as printed: the errors go, every real policy stays.
            const pasted = pastedLines(text);
            assert.deepEqual(pasted, j.suggestions.map((s) => s.pattern));
            assert.ok(pasted.length > 0 && pasted.length <= 6, pasted.join("\n"));
            assert.match(text, new RegExp(`${lib.nonPolicyFiles.length} files are not Kyverno policies; leaving them out clears ${e.errors.length} of the ${e.errors.length} problems`));
            fs.writeFileSync(path.join(t.dir, ".sourceignore"), pasted.join("\n") + "\n");
            const set = await loadPolicyDir(t.dir);
            assert.deepEqual(set.policies.map((x) => x.name).sort(), [...lib.policyNames].sort());
            assert.deepEqual(set.files.map((f) => f.path).sort(), [...lib.policyFiles].sort());
        } finally {
            t.cleanup();
        }
    });

    test("a broken real policy and a policy file with a Pod in it are never suggested away", async () => {
        const t = tempDir();
        try {
            const lib = writePolicyLibrary(t.dir, { categories: ["other"], perCategory: 40 });
            writeTree(t.dir, {
                "other/broken/broken.yaml": clusterPolicy("broken").replace("    - name: check\n      match", "    - match"),
                "other/mixed/mixed.yaml": `${clusterPolicy("mixed")}---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n`,
                "other/mixed/.chainsaw-test/chainsaw-test.yaml": "apiVersion: chainsaw.kyverno.io/v1alpha1\nkind: Test\nmetadata: {name: t}\n",
            });
            const e = await refused(t.dir);
            fs.writeFileSync(path.join(t.dir, ".sourceignore"), pastedLines(e.message).join("\n") + "\n");
            const again = await refused(t.dir);
            assert.deepEqual(again.errors.map((x) => [x.file, x.cause]), [["other/broken/broken.yaml", "invalid-policy"], ["other/mixed/mixed.yaml", "not-a-policy"]]);
            fs.rmSync(path.join(t.dir, "other", "broken"), { recursive: true });
            fs.writeFileSync(path.join(t.dir, "other", "mixed", "mixed.yaml"), clusterPolicy("mixed"));
            const set = await loadPolicyDir(t.dir);
            assert.deepEqual(set.policies.map((x) => x.name).sort(), [...lib.policyNames, "mixed"].sort());
        } finally {
            t.cleanup();
        }
    });

    test("the CLI: one problem per line on stderr; --output json prints the full list on stdout; exit 1 both ways", async () => {
        const t = tempDir();
        try {
            writePolicyLibrary(t.dir);
            const run = async (...args: string[]) => {
                const io = { out: "", err: "" };
                const code = await main(["build", "--path", t.dir, ...args], { out: (s) => (io.out += s), err: (s) => (io.err += s) });
                return { code, ...io };
            };
            const human = await run();
            assert.equal(human.code, 1);
            assert.equal(human.out, "");
            const lines = human.err.trimEnd().split("\n");
            assert.match(lines[0], /^error: \d+ problems in policy directory /);
            assert.ok(lines.length > 50 && lines.length < 150, `${lines.length} lines`);
            assert.ok(Math.max(...lines.map((l) => l.length)) <= 300);
            assert.match(lines.at(-1)!, /^Every problem, as JSON: artifact build --path \S+ --output json$/);

            const json = await run("--output", "json");
            assert.equal(json.code, 1);
            assert.match(json.err, /^error: \d+ problems in policy directory .*; the full list is the JSON on stdout\n$/);
            const j = JSON.parse(json.out) as ReturnType<typeof problemsJson>;
            const e = await refused(t.dir);
            assert.deepEqual(j, JSON.parse(JSON.stringify(problemsJson(e.report))));
            assert.equal(j.problems.length, e.errors.length);
            assert.deepEqual(Object.keys(j.problems[0]), ["file", "line", "cause", "message"]);
            assert.deepEqual(pastedLines(human.err), j.suggestions.map((s) => s.pattern));
        } finally {
            t.cleanup();
        }
    });
});
