import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { diffPolicySets, formatDiff, policyKey, summarise, type PolicySummary } from "../../lib/preview/diff";
import { loadPolicyDir } from "../../lib/policies";
import { samplePoliciesDir } from "../harness/paths";
import { copyTree, tempDir } from "../fixtures/tree";

const s = (name: string, digest: string, enforcement = "Audit", rules: [string, string, string?][] = [], namespace?: string, kind = "ClusterPolicy"): PolicySummary => ({
    kind,
    name,
    ...(namespace ? { namespace } : {}),
    digest,
    enforcement,
    rules: rules.map(([n, d, fa]) => ({ name: n, digest: d, ...(fa ? { failureAction: fa } : {}) })),
});

describe("diffPolicySets", () => {
    test("keys", () => {
        assert.equal(policyKey({ kind: "ClusterPolicy", name: "a" }), "ClusterPolicy/a");
        assert.equal(policyKey({ kind: "Policy", name: "a", namespace: "ns" }), "Policy/ns/a");
    });

    const cases: { name: string; before: PolicySummary[]; after: PolicySummary[]; summary: string; check: (d: ReturnType<typeof diffPolicySets>) => void }[] = [
        {
            name: "identical sets",
            before: [s("a", "d1"), s("b", "d2")],
            after: [s("b", "d2"), s("a", "d1")],
            summary: "policies: +0 ~0 -0",
            check: (d) => assert.deepEqual(d.unchanged.map(policyKey), ["ClusterPolicy/a", "ClusterPolicy/b"]),
        },
        {
            name: "added",
            before: [s("a", "d1")],
            after: [s("a", "d1"), s("b", "d2", "Enforce")],
            summary: "policies: +1 ~0 -0",
            check: (d) => assert.deepEqual(d.added.map(policyKey), ["ClusterPolicy/b"]),
        },
        {
            name: "removed",
            before: [s("a", "d1"), s("b", "d2")],
            after: [s("a", "d1")],
            summary: "policies: +0 ~0 -1",
            check: (d) => assert.deepEqual(d.removed.map(policyKey), ["ClusterPolicy/b"]),
        },
        {
            name: "rules added, removed and changed",
            before: [s("a", "d1", "Audit", [["keep", "r1"], ["edit", "r2"], ["drop", "r3"]])],
            after: [s("a", "d1x", "Audit", [["keep", "r1"], ["edit", "r2x"], ["new", "r4"]])],
            summary: "policies: +0 ~1 -0",
            check: (d) => {
                assert.equal(d.changed[0].key, "ClusterPolicy/a");
                assert.deepEqual(d.changed[0].rulesAdded, ["new"]);
                assert.deepEqual(d.changed[0].rulesRemoved, ["drop"]);
                assert.deepEqual(d.changed[0].rulesChanged, ["edit"]);
                assert.equal(d.changed[0].enforcement, undefined);
            },
        },
        {
            name: "enforcement changed",
            before: [s("a", "d1", "Audit", [["r", "x"]])],
            after: [s("a", "d2", "Enforce", [["r", "y", "Enforce"]])],
            summary: "policies: +0 ~1 -0",
            check: (d) => {
                assert.deepEqual(d.changed[0].enforcement, { from: "Audit", to: "Enforce" });
                assert.deepEqual(d.changed[0].rulesChanged, ["r"]);
            },
        },
        {
            name: "same name in different namespaces/kinds are different policies",
            before: [s("a", "d1", "Audit", [], "ns1", "Policy")],
            after: [s("a", "d1", "Audit", [], "ns2", "Policy"), s("a", "d1")],
            summary: "policies: +2 ~0 -1",
            check: (d) => {
                assert.deepEqual(d.added.map(policyKey), ["ClusterPolicy/a", "Policy/ns2/a"]);
                assert.deepEqual(d.removed.map(policyKey), ["Policy/ns1/a"]);
            },
        },
    ];
    for (const c of cases) {
        test(c.name, () => {
            const d = diffPolicySets(c.before, c.after);
            assert.equal(formatDiff(d).summary, c.summary);
            c.check(d);
        });
    }

    test("duplicate keys are an error", () => {
        assert.throws(() => diffPolicySets([s("a", "1"), s("a", "2")], []), /before has ClusterPolicy\/a twice/);
    });

    test("report text", () => {
        const d = diffPolicySets(
            [s("a", "d1", "Audit", [["r", "x"]]), s("gone", "g"), s("meta", "m1"), s("same", "z")],
            [s("a", "d2", "Enforce", [["r", "y", "Enforce"], ["r2", "w"]]), s("new", "n", "Enforce"), s("meta", "m2"), s("same", "z")],
        );
        assert.equal(
            formatDiff(d).text,
            [
                "policies: +1 ~2 -1",
                "+ ClusterPolicy/new (Enforce)",
                "~ ClusterPolicy/a",
                "    enforcement: Audit -> Enforce",
                "    + rule r2",
                "    ~ rule r (failureAction (inherited) -> Enforce)",
                "~ ClusterPolicy/meta",
                "    changed outside rules (metadata or spec settings)",
                "- ClusterPolicy/gone (Audit)",
                "= 1 unchanged",
            ].join("\n"),
        );
    });

    test("realistic: sample policies, one rule edited and one policy removed", async () => {
        const t = tempDir();
        try {
            const before = (await loadPolicyDir(samplePoliciesDir)).policies.map(summarise);
            copyTree(samplePoliciesDir, t.dir);
            const f = path.join(t.dir, "disallow-latest-tag.yaml");
            fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace("message: \"The latest tag is mutable; pin a version or a digest instead.\"", "failureAction: Enforce\n      message: \"No latest.\""));
            fs.unlinkSync(path.join(t.dir, "restrict-node-port.yaml"));
            // Reformatting alone (CRLF) must not show up as a change.
            const g = path.join(t.dir, "require-labels.yaml");
            fs.writeFileSync(g, fs.readFileSync(g, "utf8").replace(/\n/g, "\r\n"));
            const after = (await loadPolicyDir(t.dir)).policies.map(summarise);
            const d = diffPolicySets(before, after);
            const { text, summary } = formatDiff(d);
            assert.equal(summary, "policies: +0 ~1 -1");
            assert.equal(d.changed[0].key, "ClusterPolicy/disallow-latest-tag");
            assert.deepEqual(d.changed[0].rulesChanged, ["validate-image-tag"]);
            assert.deepEqual(d.changed[0].rulesAdded, []);
            assert.deepEqual(d.changed[0].enforcement, { from: "Audit", to: "Mixed" });
            assert.deepEqual(d.removed.map(policyKey), ["ClusterPolicy/restrict-nodeport"]);
            assert.equal(d.unchanged.length, 10);
            assert.match(text, /~ rule validate-image-tag \(failureAction \(inherited\) -> Enforce\)/);
            const rule = summarise((await loadPolicyDir(t.dir)).policies.find((p) => p.name === "disallow-latest-tag")!).rules!;
            assert.deepEqual(rule.map((r) => r.failureAction), [undefined, "Enforce"]);
            assert.ok(rule.every((r) => /^sha256:[0-9a-f]{64}$/.test(r.digest)));
        } finally {
            t.cleanup();
        }
    });
});
