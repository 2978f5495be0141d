import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadPolicyDir, PolicyLoadAggregateError } from "../../lib/policies";
import { samplePoliciesDir, repoRoot } from "../harness/paths";
import { clusterPolicy, copyTree, tempDir, writeTree } from "../fixtures/tree";

const fixtures = path.join(repoRoot, "test", "fixtures");

describe("loadPolicyDir: the 12 sample policies", () => {
    const expected: Record<string, string[]> = {
        "disallow-capabilities": ["adding-capabilities"],
        "disallow-default-namespace": ["validate-namespace", "validate-podcontroller-namespace"],
        "disallow-host-namespaces": ["host-namespaces"],
        "disallow-latest-tag": ["require-image-tag", "validate-image-tag"],
        "disallow-privileged-containers": ["privileged-containers"],
        "prevent-bare-pods": ["bare-pods"],
        "require-base-image": ["require-base-image"],
        "require-labels": ["check-for-labels"],
        "require-pod-probes": ["validate-probes"],
        "require-requests-limits": ["validate-resources"],
        "require-run-as-nonroot": ["run-as-non-root"],
        "restrict-nodeport": ["validate-nodeport"],
    };

    test("all load with their rules, Audit enforcement and sorted output", async () => {
        const set = await loadPolicyDir(samplePoliciesDir);
        assert.equal(set.files.length, 12);
        assert.equal(set.policies.length, 12);
        assert.deepEqual(
            set.policies.map((p) => p.name),
            Object.keys(expected).sort(),
        );
        for (const p of set.policies) {
            assert.equal(p.apiVersion, "kyverno.io/v1");
            assert.equal(p.kind, "ClusterPolicy");
            assert.equal(p.namespace, undefined);
            assert.equal(p.line, 1);
            assert.match(p.digest, /^sha256:[0-9a-f]{64}$/);
            assert.deepEqual(p.rules.map((r) => r.name), expected[p.name], p.name);
            assert.ok(p.rules.every((r) => r.kinds.length === 1 && r.kinds[0] === "validate"));
            assert.ok(p.rules.every((r) => r.failureAction === undefined));
            assert.equal(p.validationFailureAction, "Audit");
            assert.equal(p.enforcement, "Audit");
            assert.ok(!p.file.includes(path.sep) || path.sep === "/");
            assert.equal((p.document.metadata as { name: string }).name, p.name);
        }
        assert.deepEqual(
            set.files.map((f) => f.path),
            [...set.files.map((f) => f.path)].sort(),
        );
        const req = set.policies.find((p) => p.name === "require-labels")!;
        assert.equal(req.file, "require-labels.yaml");
        assert.equal(set.files.find((f) => f.path === "require-labels.yaml")!.size, fs.statSync(path.join(samplePoliciesDir, "require-labels.yaml")).size);
    });

    test("documents: false keeps everything but the parsed objects (artifact build's memory)", async () => {
        const full = await loadPolicyDir(samplePoliciesDir);
        const lean = await loadPolicyDir(samplePoliciesDir, { documents: false });
        assert.ok(full.policies.every((p) => typeof p.document.spec === "object"), "the default load keeps each parsed object");
        assert.ok(lean.policies.every((p) => !("document" in p)), "documents: false drops them");
        assert.deepEqual(lean.policies, full.policies.map(({ document: _document, ...info }) => info));
        assert.deepEqual(lean.files, full.files);
        assert.deepEqual(lean.skipped, full.skipped);
    });

    test("switching a rule to Enforce makes the policy Mixed, then Enforce", async () => {
        const t = tempDir();
        try {
            copyTree(samplePoliciesDir, t.dir);
            const f = path.join(t.dir, "disallow-latest-tag.yaml");
            const src = fs.readFileSync(f, "utf8");
            // Rule-level failureAction wins over spec-level validationFailureAction.
            fs.writeFileSync(f, src.replace("message: \"Every container image needs an explicit tag.\"", "failureAction: Enforce\n      message: \"Every container image needs an explicit tag.\""));
            let p = (await loadPolicyDir(t.dir)).policies.find((x) => x.name === "disallow-latest-tag")!;
            assert.deepEqual(p.rules.map((r) => r.failureAction), ["Enforce", undefined]);
            assert.equal(p.enforcement, "Mixed");
            fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace("validationFailureAction: Audit", "validationFailureAction: Enforce"));
            p = (await loadPolicyDir(t.dir)).policies.find((x) => x.name === "disallow-latest-tag")!;
            assert.equal(p.enforcement, "Enforce");
            assert.equal(p.validationFailureAction, "Enforce");
        } finally {
            t.cleanup();
        }
    });
});

describe("loadPolicyDir: what ships", () => {
    test("mixed fixture: kustomizations ship, README/.sourceignore/CI/ignored files do not", async () => {
        const set = await loadPolicyDir(path.join(fixtures, "good", "mixed"));
        assert.deepEqual(set.files.map((f) => f.path), [
            "cluster-policy.yaml",
            "extra/kustomization.yaml",
            "extra/namespaced.yaml",
            "extra/validating.yaml",
            "kustomization.yaml",
        ]);
        assert.deepEqual(set.skipped, [
            { path: ".github", reason: "ignored" },
            { path: ".sops.yaml", reason: "ignored" },
            { path: ".sourceignore", reason: "not-yaml" },
            { path: "README.md", reason: "not-yaml" },
            { path: "drafts", reason: "ignored" },
            { path: "old.bak.yaml", reason: "ignored" },
        ]);
        const byName = Object.fromEntries(set.policies.map((p) => [p.name, p]));
        assert.deepEqual(set.policies.map((p) => `${p.kind}/${p.namespace ?? ""}/${p.name}`), [
            "ClusterPolicy//require-team-label",
            "Policy/team-a/team-mutate",
            "PolicyException/team-a/allow-debug",
            "ValidatingPolicy//deny-privileged",
        ]);
        assert.equal(byName["require-team-label"].enforcement, "Mixed");
        assert.deepEqual(byName["require-team-label"].rules, [
            { name: "audit-team-label", kinds: ["validate"] },
            { name: "enforce-no-latest", kinds: ["validate"], failureAction: "Enforce" },
        ]);
        assert.equal(byName["team-mutate"].enforcement, "None");
        assert.deepEqual(byName["team-mutate"].rules, [{ name: "add-label", kinds: ["mutate"] }]);
        assert.equal(byName["allow-debug"].line, 16);
        assert.equal(byName["allow-debug"].file, "extra/namespaced.yaml");
        assert.deepEqual(byName["deny-privileged"].validationActions, ["Deny"]);
        assert.equal(byName["deny-privileged"].enforcement, "Enforce");
        assert.deepEqual(byName["deny-privileged"].rules, []);
    });

    test("validationActions: Audit/Warn only → Audit; unset → Kyverno default Deny → Enforce", async () => {
        const t = tempDir();
        try {
            const vp = (name: string, actions?: string) =>
                `apiVersion: policies.kyverno.io/v1alpha1\nkind: ValidatingPolicy\nmetadata:\n  name: ${name}\nspec:\n${actions ? `  validationActions: ${actions}\n` : ""}  validations:\n    - expression: "true"\n`;
            writeTree(t.dir, { "a.yaml": vp("audit-warn", "[Audit, Warn]"), "b.yaml": vp("unset"), "c.yaml": vp("deny-audit", "[Deny, Audit]") });
            const set = await loadPolicyDir(t.dir);
            assert.deepEqual(set.policies.map((p) => [p.name, p.enforcement, p.validationActions]), [
                ["audit-warn", "Audit", ["Audit", "Warn"]],
                ["deny-audit", "Enforce", ["Deny", "Audit"]],
                ["unset", "Enforce", undefined],
            ]);
        } finally {
            t.cleanup();
        }
    });

    test("CRLF, comments, key order and quoting do not change the policy digest", async () => {
        const t = tempDir();
        try {
            const lf = clusterPolicy("same", "  validationFailureAction: Audit");
            const crlf = lf.replace(/\n/g, "\r\n");
            const reordered =
                "# comment\nkind: ClusterPolicy\napiVersion: 'kyverno.io/v1'\nmetadata: {name: \"same\"}\nspec:\n  rules:\n    - validate: {pattern: {metadata: {name: \"?*\"}}, message: m}\n      name: check\n      match: {any: [{resources: {kinds: [Pod]}}]}\n  validationFailureAction: Audit\n";
            const digests: string[] = [];
            for (const content of [lf, crlf, reordered]) {
                fs.rmSync(path.join(t.dir, "p.yaml"), { force: true });
                writeTree(t.dir, { "p.yaml": content });
                const set = await loadPolicyDir(t.dir);
                digests.push(set.policies[0].digest);
                assert.equal(set.files[0].size, Buffer.byteLength(content), "the file ships byte for byte");
            }
            assert.equal(new Set(digests).size, 1, digests.join(" "));
            writeTree(t.dir, { "p.yaml": lf.replace("message: m", "message: changed") });
            assert.notEqual((await loadPolicyDir(t.dir)).policies[0].digest, digests[0]);
        } finally {
            t.cleanup();
        }
    });

    test("multi-document files: each policy gets its own start line; empty documents are skipped", async () => {
        const t = tempDir();
        try {
            writeTree(t.dir, {
                "multi.yaml": `---\n# first\n${clusterPolicy("one")}---\n---\n${clusterPolicy("two")}...\n`,
                "empty.yaml": "# nothing here\n---\n",
            });
            const set = await loadPolicyDir(t.dir);
            assert.deepEqual(set.policies.map((p) => [p.name, p.line]), [["one", 3], ["two", 14]]);
            assert.deepEqual(set.files.map((f) => f.path), ["multi.yaml"]);
            assert.deepEqual(set.skipped, [{ path: "empty.yaml", reason: "empty" }]);
        } finally {
            t.cleanup();
        }
    });

    test("nested .sourceignore is scoped to its directory; negation re-includes; extra ignore option wins", async () => {
        const t = tempDir();
        try {
            writeTree(t.dir, {
                ".sourceignore": "*.draft.yaml\n!keep.draft.yaml\n",
                "a.yaml": clusterPolicy("a"),
                "x.draft.yaml": "apiVersion: v1\nkind: Secret\n",
                "keep.draft.yaml": clusterPolicy("keep"),
                "team/.sourceignore": "/local.yaml\n",
                "team/local.yaml": "apiVersion: v1\nkind: Secret\n",
                "team/sub/local.yaml": clusterPolicy("nested-local"),
                "local.yaml": clusterPolicy("root-local"),
                "image.png": "not really a png",
                "vendor/thing.yaml": "apiVersion: v1\nkind: ConfigMap\n",
            });
            const set = await loadPolicyDir(t.dir, { ignore: ["vendor/"] });
            assert.deepEqual(set.files.map((f) => f.path), ["a.yaml", "keep.draft.yaml", "local.yaml", "team/sub/local.yaml"]);
            assert.deepEqual(set.skipped?.filter((s) => s.reason === "ignored").map((s) => s.path), ["image.png", "team/local.yaml", "vendor", "x.draft.yaml"]);
        } finally {
            t.cleanup();
        }
    });

    test("symlinks inside the directory are followed and ship as regular files", async () => {
        const t = tempDir();
        try {
            writeTree(t.dir, { "real/a.yaml": clusterPolicy("a") });
            fs.symlinkSync("real", path.join(t.dir, "linked-dir"));
            fs.symlinkSync("real/a.yaml", path.join(t.dir, "alias.yaml"));
            await assert.rejects(loadPolicyDir(t.dir), (e: PolicyLoadAggregateError) => {
                // Same policy reachable three ways → duplicates, naming both files.
                assert.match(e.message, /linked-dir\/a\.yaml:1: duplicate ClusterPolicy "a": also defined in alias\.yaml:1/);
                assert.match(e.message, /real\/a\.yaml:1: duplicate ClusterPolicy "a": also defined in alias\.yaml:1/);
                return true;
            });
            fs.unlinkSync(path.join(t.dir, "alias.yaml"));
            fs.unlinkSync(path.join(t.dir, "linked-dir"));
            writeTree(t.dir, { "b.yaml": clusterPolicy("b") });
            fs.renameSync(path.join(t.dir, "b.yaml"), path.join(t.dir, "real", "b.yaml"));
            fs.symlinkSync("real/b.yaml", path.join(t.dir, "b-link.yaml"));
            fs.unlinkSync(path.join(t.dir, "real", "a.yaml"));
            writeTree(t.dir, { ".sourceignore": "real/\n" });
            const set = await loadPolicyDir(t.dir);
            assert.deepEqual(set.files.map((f) => f.path), ["b-link.yaml"]);
            assert.equal(set.files[0].absPath, fs.realpathSync(path.join(t.dir, "real", "b.yaml")));
        } finally {
            t.cleanup();
        }
    });
});
