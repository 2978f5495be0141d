import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadPolicyDir, PolicyLoadAggregateError, PolicyLoadError, PROBLEM_CAUSES } from "../../lib/policies";
import { repoRoot } from "../harness/paths";
import { clusterPolicy, tempDir, writeTree } from "../fixtures/tree";

const fixtures = path.join(repoRoot, "test", "fixtures");

/** Loads `dir`, expects an aggregate error, returns its problems. */
async function problems(dir: string, opts = {}): Promise<PolicyLoadAggregateError> {
    try {
        await loadPolicyDir(dir, opts);
    } catch (e) {
        assert.ok(e instanceof PolicyLoadAggregateError, String(e));
        for (const p of e.errors) {
            assert.ok(p instanceof PolicyLoadError);
            // Grouped report: each problem on its own line as path:line: detail, under its cause's
            // heading, whose explanation and fix (when shared) complete the problem's message.
            const where = p.format().slice(0, -p.message.length);
            assert.ok(e.message.split("\n").includes(`  ${where}${p.detail}`), `aggregate message lists ${where}${p.detail} on its own line`);
            const spec = PROBLEM_CAUSES[p.cause];
            assert.ok(e.message.includes(`\n${spec.title} (`) && e.message.includes(`\n  why: ${spec.explanation}\n`), `heading and explanation of ${p.cause}`);
            if (spec.fix) assert.ok(e.message.includes(`\n  what to do: ${spec.fix}\n`) && p.message.endsWith(spec.fix), `fix of ${p.cause}`);
            else assert.equal(p.message, p.detail);
        }
        return e;
    }
    assert.fail("expected loadPolicyDir to fail");
}

interface Case {
    name: string;
    files: Record<string, string | Buffer>;
    opts?: Record<string, unknown>;
    /** Expected problems: file, line (undefined when none), message regex (the fix must be in it). */
    expect: { file: string; line?: number; re: RegExp }[];
}

const cp = clusterPolicy;
const cases: Case[] = [
    {
        name: "invalid YAML syntax, with the line of the error",
        files: { "p.yaml": "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: x\n   bad: indent\n" },
        expect: [{ file: "p.yaml", line: 5, re: /invalid YAML: .*fix the syntax/ }],
    },
    {
        name: "duplicate mapping keys",
        files: { "p.yaml": "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nkind: Policy\n" },
        expect: [{ file: "p.yaml", line: 3, re: /duplicated mapping key.*duplicate keys/ }],
    },
    {
        name: "a Secret is not a policy",
        files: { "ok.yaml": cp("ok"), "secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData: {a: b}\n" },
        expect: [{ file: "secret.yaml", line: 2, re: /Secret \(v1\) is not a Kyverno policy.*move the file out of the policy directory or list it in \.sourceignore/ }],
    },
    {
        name: "a Deployment in the second document of a policy file",
        files: { "p.yaml": `${cp("ok")}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n` },
        expect: [{ file: "p.yaml", line: 12, re: /Deployment \(apps\/v1\) is not a Kyverno policy.*\.sourceignore/ }],
    },
    {
        name: "artifacthub-pkg.yml (no apiVersion)",
        files: { "ok.yaml": cp("ok"), "artifacthub-pkg.yml": "version: 1.0.0\nname: x\n" },
        expect: [{ file: "artifacthub-pkg.yml", line: 1, re: /no apiVersion.*\.sourceignore/ }],
    },
    {
        name: "a YAML list document",
        files: { "ok.yaml": cp("ok"), "list.yaml": "- a\n- b\n" },
        expect: [{ file: "list.yaml", line: 1, re: /document is a list, not a Kubernetes object.*\.sourceignore/ }],
    },
    {
        name: "wrong group for a Kyverno kind",
        files: { "p.yaml": cp("x").replace("kyverno.io/v1", "policies.kyverno.io/v1") },
        expect: [{ file: "p.yaml", line: 2, re: /ClusterPolicy is served by kyverno\.io, not policies\.kyverno\.io/ }],
    },
    {
        name: "version not served for the kind",
        files: { "p.yaml": cp("x").replace("kyverno.io/v1", "kyverno.io/v2") },
        expect: [{ file: "p.yaml", line: 1, re: /kyverno\.io\/v2 does not serve ClusterPolicy; use apiVersion kyverno\.io\/v1 or kyverno\.io\/v2beta1/ }],
    },
    {
        name: "a Flux Kustomization is not a kustomize kustomization",
        files: { "ok.yaml": cp("ok"), "ks.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: k}\n" },
        expect: [{ file: "ks.yaml", line: 2, re: /Kustomization \(kustomize\.toolkit\.fluxcd\.io\/v1\) is not a Kyverno policy/ }],
    },
    {
        name: "kustomize Kustomization in a file not named kustomization.yaml",
        files: { "ok.yaml": cp("ok"), "k.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" },
        expect: [{ file: "k.yaml", line: 2, re: /must be in a file named kustomization\.yaml/ }],
    },
    {
        name: "missing metadata.name",
        files: { "p.yaml": cp("x").replace("  name: x\n", "  labels: {a: b}\n") },
        expect: [{ file: "p.yaml", line: 3, re: /no metadata\.name; set metadata\.name/ }],
    },
    {
        name: "invalid metadata.name",
        files: { "p.yaml": cp("Bad_Name") },
        expect: [{ file: "p.yaml", line: 4, re: /"Bad_Name" is not a valid Kubernetes name; use lowercase/ }],
    },
    {
        name: "namespace on a cluster-scoped kind",
        files: { "p.yaml": cp("x").replace("  name: x\n", "  name: x\n  namespace: default\n") },
        expect: [{ file: "p.yaml", line: 5, re: /cluster-scoped and must not set metadata\.namespace; remove it/ }],
    },
    {
        name: "no rules",
        files: { "p.yaml": "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: x\nspec:\n  rules: []\n" },
        expect: [{ file: "p.yaml", line: 6, re: /has no rules; add at least one entry under spec\.rules/ }],
    },
    {
        name: "no spec",
        files: { "p.yaml": "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: x\n" },
        expect: [{ file: "p.yaml", line: 1, re: /has no spec; add spec\.rules/ }],
    },
    {
        name: "rule without a type",
        files: { "p.yaml": "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: x\nspec:\n  rules:\n    - name: r\n      match: {}\n" },
        expect: [{ file: "p.yaml", line: 7, re: /rule "r" has none of validate, mutate, generate or verifyImages; add one/ }],
    },
    {
        name: "duplicate rule names",
        files: { "p.yaml": cp("x").replace("  rules:\n", "  rules:\n    - name: check\n      match: {}\n      mutate: {}\n") },
        expect: [{ file: "p.yaml", line: 10, re: /rule name "check" is used twice \(also spec\.rules\[0\]\); rule names must be unique/ }],
    },
    {
        name: "rule without a name",
        files: { "p.yaml": cp("x").replace("    - name: check\n      match", "    - match") },
        expect: [{ file: "p.yaml", line: 6, re: /spec\.rules\[0\] has no name; give every rule a unique name/ }],
    },
    {
        name: "invalid spec-level validationFailureAction",
        files: { "p.yaml": cp("x", "  validationFailureAction: Block") },
        expect: [{ file: "p.yaml", line: 6, re: /spec\.validationFailureAction "Block" is invalid; use Audit or Enforce/ }],
    },
    {
        name: "invalid rule-level failureAction",
        files: { "p.yaml": cp("x").replace("validate: {message: m", "validate: {failureAction: enforce, message: m") },
        expect: [{ file: "p.yaml", line: 9, re: /rule "check" validate\.failureAction "enforce" is invalid; use Audit or Enforce/ }],
    },
    {
        name: "invalid validationActions",
        files: {
            "p.yaml": "apiVersion: policies.kyverno.io/v1alpha1\nkind: ValidatingPolicy\nmetadata:\n  name: v\nspec:\n  validationActions: [Block]\n",
        },
        expect: [{ file: "p.yaml", line: 6, re: /spec\.validationActions \["Block"\] is invalid; use a non-empty list of Deny, Audit, Warn/ }],
    },
    {
        name: "duplicate policies across files (both named)",
        files: { "a.yaml": cp("same"), "b/c.yaml": `# x\n${cp("same")}` },
        expect: [{ file: "b/c.yaml", line: 2, re: /duplicate ClusterPolicy "same": also defined in a\.yaml:1; rename one of them or delete the duplicate/ }],
    },
    {
        name: "empty directory (only a README)",
        files: { "README.md": "# nothing\n" },
        expect: [{ file: ".", re: /no Kyverno policies found \(files skipped: 1 not-yaml, 0 ignored, 0 empty\); add policy YAML files/ }],
    },
    {
        name: "file over the size limit",
        files: { "ok.yaml": cp("ok"), "big.yaml": `${cp("big")}# ${"x".repeat(2000)}\n` },
        opts: { maxFileSize: 1024 },
        expect: [{ file: "big.yaml", re: /file is \d+ bytes, over the 1024-byte limit \(maxFileSize\); split it into smaller files or raise maxFileSize/ }],
    },
    {
        name: "non-UTF-8 bytes (Latin-1 é on line 3)",
        files: { "ok.yaml": cp("ok"), "latin1.yaml": Buffer.concat([Buffer.from("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\n# caf"), Buffer.from([0xe9]), Buffer.from("\n")]) },
        expect: [{ file: "latin1.yaml", line: 3, re: /not valid UTF-8 \(byte 0xe9 at offset \d+\); save the file as UTF-8/ }],
    },
    {
        name: "UTF-16 file",
        files: { "ok.yaml": cp("ok"), "u16.yaml": Buffer.from("\ufeffapiVersion: v1\n", "utf16le") },
        expect: [{ file: "u16.yaml", line: 1, re: /not valid UTF-8/ }],
    },
    {
        name: "YAML bomb (alias expansion)",
        files: {
            "ok.yaml": cp("ok"),
            "bomb.yaml":
                "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: bomb}\nx:\n" +
                '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' +
                Array.from({ length: 8 }, (_, i) => `  ${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(",")}]\n`).join(""),
        },
        expect: [{ file: "bomb.yaml", line: 1, re: /expands to more than 250000 YAML nodes.*YAML bomb.*without anchors\/aliases/ }],
    },
    {
        name: "kustomization resource that does not ship",
        files: { "kustomization.yaml": "resources:\n  - a.yaml\n  - missing.yaml\n", "a.yaml": cp("a") },
        expect: [{ file: "kustomization.yaml", line: 3, re: /resources entry "missing\.yaml" is not in the artifact.*fix the path or remove the entry/ }],
    },
    {
        name: "policy not listed in the root kustomization",
        files: { "kustomization.yaml": "resources:\n  - a.yaml\n", "a.yaml": cp("a"), "b.yaml": cp("b") },
        expect: [{ file: "b.yaml", re: /not listed .* in kustomization\.yaml resources, so Flux would never apply it; add it to resources/ }],
    },
    {
        name: "kustomization.yaml holding something else",
        files: { "kustomization.yaml": cp("k"), "a.yaml": cp("a") },
        expect: [{ file: "kustomization.yaml", line: 1, re: /must hold a kustomize Kustomization/ }],
    },
];

describe("loadPolicyDir: every validation error names file, line and fix", () => {
    for (const c of cases) {
        test(c.name, async () => {
            const t = tempDir();
            try {
                writeTree(t.dir, c.files);
                const e = await problems(t.dir, c.opts);
                assert.deepEqual(
                    e.errors.map((x) => ({ file: x.file, line: x.line })),
                    c.expect.map((x) => ({ file: x.file, line: x.line })),
                    e.message,
                );
                c.expect.forEach((x, i) => assert.match(e.errors[i].message, x.re));
                assert.ok(!e.errors.some((x) => x.message.includes(t.dir)), "messages use relative paths");
            } finally {
                t.cleanup();
            }
        });
    }

    test("collects all errors across files in one aggregate", async () => {
        const e = await problems(path.join(fixtures, "bad", "not-policies"));
        assert.deepEqual(e.errors.map((x) => x.format().replace(/: .*/, "")), ["artifacthub-pkg.yml:1", "mixed.yaml:21", "mixed.yaml:28"]);
        assert.match(e.message, /^3 problems in policy directory /);
        assert.ok(!e.message.includes("not-a-real-token"), "never echoes document content");
        const d = await problems(path.join(fixtures, "bad", "duplicate"));
        assert.deepEqual(d.errors.map((x) => x.format()), [
            'sub/b.yaml:3: duplicate ClusterPolicy "same-name": also defined in a.yaml:1; rename one of them or delete the duplicate',
        ]);
    });

    test("directory that does not exist", async () => {
        const t = tempDir();
        t.cleanup();
        const e = await problems(t.dir);
        assert.match(e.errors[0].message, /does not exist.*pass the directory/);
    });

    test("symlink leaving the directory, dangling symlink, symlink loop", async () => {
        const t = tempDir();
        const outside = tempDir();
        try {
            writeTree(outside.dir, { "evil.yaml": cp("evil") });
            writeTree(t.dir, { "ok.yaml": cp("ok"), "d/x.yaml": cp("x") });
            fs.symlinkSync(path.join(outside.dir, "evil.yaml"), path.join(t.dir, "out.yaml"));
            fs.symlinkSync("nowhere.yaml", path.join(t.dir, "dangling.yaml"));
            fs.symlinkSync("..", path.join(t.dir, "d", "up"));
            fs.symlinkSync("self-b", path.join(t.dir, "self-a"));
            fs.symlinkSync("self-a", path.join(t.dir, "self-b"));
            const e = await problems(t.dir);
            const got = Object.fromEntries(e.errors.map((x) => [x.file, x.message]));
            assert.deepEqual(Object.keys(got).sort(), ["d/up", "dangling.yaml", "out.yaml", "self-a", "self-b"]);
            assert.match(got["out.yaml"], /points outside the policy directory.*copy the file into the directory or list the link in \.sourceignore/);
            assert.match(got["dangling.yaml"], /dangling \(target "nowhere\.yaml" does not exist\); fix or remove the link/);
            assert.match(got["d/up"], /symlink loop.*remove the link or list it in \.sourceignore/);
            assert.match(got["self-a"], /symlink loop/);
            // Listing the bad links in .sourceignore makes the directory load.
            writeTree(t.dir, { ".sourceignore": "out.yaml\ndangling.yaml\nup\nself-*\n" });
            const set = await loadPolicyDir(t.dir);
            assert.deepEqual(set.files.map((f) => f.path), ["d/x.yaml", "ok.yaml"]);
        } finally {
            t.cleanup();
            outside.cleanup();
        }
    });
});
