import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
    combineActions, enforcementPatches, enforceOperations, nameRegex, normaliseAction, overrideActions, patchedBy,
    perPolicyEnforcementPatches, PatchablePolicy, validationActionsEnforcement,
} from "../../lib/policies/enforcement";
import { ALLOWED_KINDS, familyOf } from "../../lib/policies/kindTable";
import { samplePoliciesDir, repoRoot } from "../harness/paths";
import { readPolicies } from "../support/policyFixtures";
import * as path from "node:path";

const classic = (rules: unknown[], extra: Record<string, unknown> = {}): PatchablePolicy => ({
    apiVersion: "kyverno.io/v1", kind: "ClusterPolicy", name: "p",
    document: { apiVersion: "kyverno.io/v1", kind: "ClusterPolicy", metadata: { name: "p" }, spec: { ...extra, rules } },
});

describe("enforcement operations per policy kind", () => {
    test("ClusterPolicy: spec-level and every validate rule, by index", () => {
        const ops = enforceOperations(classic([
            { name: "a", validate: { pattern: {} } },
            { name: "b", mutate: { patchStrategicMerge: {} } },
            { name: "c", validate: { cel: {} , failureAction: "Audit" } },
        ], { validationFailureAction: "Audit" }));
        assert.deepEqual(ops, [
            { op: "add", path: "/spec/validationFailureAction", value: "Enforce" },
            { op: "add", path: "/spec/rules/0/validate/failureAction", value: "Enforce" },
            { op: "add", path: "/spec/rules/2/validate/failureAction", value: "Enforce" },
        ]);
    });
    test("verifyImages entries get their own failureAction", () => {
        const ops = enforceOperations(classic([{ name: "v", verifyImages: [{ imageReferences: ["*"] }, { imageReferences: ["x/*"] }] }]));
        assert.deepEqual(ops.map((o) => o.path), [
            "/spec/validationFailureAction",
            "/spec/rules/0/verifyImages/0/failureAction",
            "/spec/rules/0/verifyImages/1/failureAction",
        ]);
    });
    test("mutate-only and generate-only policies get nothing", () => {
        assert.deepEqual(enforceOperations(classic([{ name: "m", mutate: {} }, { name: "g", generate: {} }])), []);
    });
    test("namespaced Policy", () => {
        const ops = enforceOperations({ ...classic([{ name: "a", validate: {} }]), kind: "Policy", namespace: "team-a" });
        assert.equal(ops.length, 2);
    });
    test("ValidatingPolicy and ImageValidatingPolicy: validationActions [Deny]", () => {
        for (const kind of ["ValidatingPolicy", "ImageValidatingPolicy", "NamespacedValidatingPolicy"]) {
            const ops = enforceOperations({ apiVersion: "policies.kyverno.io/v1alpha1", kind, name: "v", document: { spec: { validationActions: ["Audit"] } } });
            assert.deepEqual(ops, [{ op: "add", path: "/spec/validationActions", value: ["Deny"] }], kind);
        }
    });
    test("MutatingPolicy, GeneratingPolicy, PolicyException: nothing to enforce", () => {
        for (const [apiVersion, kind] of [["policies.kyverno.io/v1alpha1", "MutatingPolicy"], ["policies.kyverno.io/v1alpha1", "GeneratingPolicy"], ["kyverno.io/v2", "PolicyException"]]) {
            assert.deepEqual(enforceOperations({ apiVersion, kind, name: "x", document: { spec: {} } }), [], kind);
        }
    });
});

/** How kustomize compiles a target name (api/types selector: `^(?:` + name + `)$`). */
const kustomizeMatches = (name: string, candidate: string) => new RegExp(`^(?:${name})$`).test(candidate);

const named = (name: string, rules: unknown[], extra: Partial<PatchablePolicy> = {}): PatchablePolicy => ({
    ...classic(rules), name, ...extra,
    document: { ...classic(rules).document, metadata: { name } },
});

describe("Kustomization patches", () => {
    test("audit stacks patch nothing", () => {
        assert.deepEqual(enforcementPatches(readPolicies(samplePoliciesDir), "audit"), []);
        assert.deepEqual(perPolicyEnforcementPatches(readPolicies(samplePoliciesDir), "audit"), []);
    });
    test("enforce: the sample policies share one patch per rule shape, every policy selected exactly once", () => {
        const policies = readPolicies(samplePoliciesDir);
        const patches = enforcementPatches(policies, "enforce");
        // Ten policies with one validate rule, two with two: two shapes.
        assert.equal(patches.length, 2);
        for (const p of patches) {
            assert.equal(p.target.group, "kyverno.io");
            assert.equal(p.target.version, "v1");
            assert.equal(p.target.kind, "ClusterPolicy");
            assert.deepEqual(JSON.parse(p.patch), p.operations, "the patch string is the operations");
            assert.equal(p.target.name, `^(${p.names.join("|")})$`, "anchored alternation of the names");
            assert.deepEqual(p.names, [...p.names].sort(), "names sorted");
        }
        for (const policy of policies) {
            const selecting = patches.filter((p) => kustomizeMatches(p.target.name, policy.name));
            assert.equal(selecting.length, 1, `${policy.name} is selected by exactly one patch`);
            assert.deepEqual(selecting[0].operations, enforceOperations(policy), `${policy.name} gets its own operations`);
        }
        assert.deepEqual(patches.map((p) => p.operations.length), [3, 2], "stable order of shapes");
    });
    test("the output depends only on the set of policies, not the order they were read in", () => {
        const policies = [...readPolicies(samplePoliciesDir), ...readPolicies(path.join(repoRoot, "policies"))]
            .filter((p, i, all) => all.findIndex((q) => q.kind === p.kind && q.name === p.name) === i);
        const expected = enforcementPatches(policies, "enforce");
        for (let seed = 1; seed <= 5; seed++) {
            const shuffled = policies.map((p, i) => ({ p, k: (i * 7919 * seed) % 101 })).sort((a, b) => a.k - b.k).map((x) => x.p);
            assert.deepEqual(enforcementPatches(shuffled, "enforce"), expected);
        }
    });
    test("a shape with one policy keeps the anchored form", () => {
        const [patch] = enforcementPatches([named("only", [{ name: "a", validate: {} }])], "enforce");
        assert.equal(patch.target.name, "^(only)$");
        assert.deepEqual(patch.names, ["only"]);
    });
    test("different shapes, kinds and namespaces never share a patch", () => {
        const one = [{ name: "a", validate: {} }];
        const two = [{ name: "a", validate: {} }, { name: "b", validate: {} }];
        const patches = enforcementPatches([
            named("c1", one), named("c2", one), named("c3", two),
            named("p1", one, { kind: "Policy", namespace: "team-a" }), named("p2", one, { kind: "Policy", namespace: "team-a" }),
            named("p3", one, { kind: "Policy", namespace: "team-b" }),
            named("v1", one, { apiVersion: "kyverno.io/v2beta1" }),
        ], "enforce");
        assert.deepEqual(patches.map((p) => [p.target.kind, p.target.version, p.target.namespace ?? "", p.target.name]), [
            ["ClusterPolicy", "v1", "", "^(c3)$"],
            ["ClusterPolicy", "v1", "", "^(c1|c2)$"],
            ["ClusterPolicy", "v2beta1", "", "^(v1)$"],
            ["Policy", "v1", "team-a", "^(p1|p2)$"],
            ["Policy", "v1", "team-b", "^(p3)$"],
        ]);
    });
    test("names are escaped: a dot matches only a dot", () => {
        assert.equal(nameRegex("team.a-b"), "team\\.a-b");
        const one = [{ name: "a", validate: {} }];
        const two = [{ name: "a", validate: {} }, { name: "b", validate: {} }];
        const patches = enforcementPatches([named("a.b", one), named("axb", two), named("a.b.c", one)], "enforce");
        const forDotted = patches.find((p) => p.names.includes("a.b"))!;
        assert.equal(forDotted.target.name, "^(a\\.b|a\\.b\\.c)$");
        assert.ok(kustomizeMatches(forDotted.target.name, "a.b") && kustomizeMatches(forDotted.target.name, "a.b.c"));
        assert.ok(!kustomizeMatches(forDotted.target.name, "axb"), "the dot is not a wildcard");
        assert.ok(!kustomizeMatches(forDotted.target.name, "a.bc") && !kustomizeMatches(forDotted.target.name, "xa.b"), "anchored");
        const [perPolicy] = perPolicyEnforcementPatches([named("a.b", one)], "enforce");
        assert.equal(perPolicy.target.name, "a\\.b");
    });
    test("per policy: one patch per policy that has something to enforce, by escaped name", () => {
        const policies = readPolicies(path.join(repoRoot, "policies"));
        const patches = perPolicyEnforcementPatches(policies, "enforce");
        assert.deepEqual(patches.map((p) => `${p.target.kind}/${p.target.name}`), [
            "ClusterPolicy/disallow-latest-tag",
            "ClusterPolicy/disallow-privileged-containers",
            "ClusterPolicy/restrict-nodeport",
            "ValidatingPolicy/disallow-host-path",
            "ValidatingPolicy/require-team-label",
        ]);
        for (const p of patches) assert.deepEqual(p.names, [p.target.name]);
    });
    test("patchedBy tells, per policy, whether a grouped patch selects it", () => {
        const policies = readPolicies(path.join(repoRoot, "policies"));
        const patched = patchedBy(enforcementPatches(policies, "enforce"));
        assert.deepEqual(policies.filter((p) => !patched(p)).map((p) => p.name), ["add-default-seccomp"]);
        assert.ok(!patched({ ...policies[0], namespace: "elsewhere" }), "namespace is part of the identity");
        assert.equal(policies.filter(patchedBy(enforcementPatches(policies, "audit"))).length, 0);
    });
    test("the repository's own policies: the mutate-only one is left alone, the CEL ones share a patch", () => {
        const policies = readPolicies(path.join(repoRoot, "policies"));
        const patches = enforcementPatches(policies, "enforce");
        assert.ok(!patches.some((p) => kustomizeMatches(p.target.name, "add-default-seccomp")));
        const cel = patches.find((p) => p.target.kind === "ValidatingPolicy");
        assert.ok(cel, "ValidatingPolicy patched");
        assert.equal(cel.target.group, "policies.kyverno.io");
        assert.deepEqual(cel.names, ["disallow-host-path", "require-team-label"]);
    });
    test("namespaced policies are targeted by namespace", () => {
        const [patch] = enforcementPatches([{ ...classic([{ name: "a", validate: {} }]), kind: "Policy", namespace: "team-a" }], "enforce");
        assert.equal(patch.target.namespace, "team-a");
    });
});

describe("one kind table decides what can enforce", () => {
    test("every kind of the table: validating kinds patch validationActions, classic kinds their rules, others nothing", () => {
        const seen = { classic: 0, validating: 0, other: 0 };
        for (const [group, kinds] of Object.entries(ALLOWED_KINDS)) {
            for (const [kind, spec] of Object.entries(kinds)) {
                const apiVersion = `${group}/${spec.versions[spec.versions.length - 1]}`;
                assert.equal(familyOf(apiVersion, kind), spec.family);
                const ops = enforceOperations({
                    apiVersion, kind, name: "p",
                    document: { apiVersion, kind, metadata: { name: "p" }, spec: { rules: [{ name: "r", validate: {} }] } },
                });
                const expected = spec.family === "validating" ? ["/spec/validationActions"]
                    : spec.family === "classic" ? ["/spec/validationFailureAction", "/spec/rules/0/validate/failureAction"] : [];
                assert.deepEqual(ops.map((o) => o.path), expected, `${apiVersion} ${kind}`);
                seen[spec.family]++;
            }
        }
        // Each family is present, so each branch above was exercised.
        assert.ok(seen.classic > 0 && seen.validating > 0 && seen.other > 0, JSON.stringify(seen));
    });

    test("a kind outside the table, or under another group, has no family and no patch", () => {
        assert.equal(familyOf("kyverno.io/v1", "ValidatingPolicy"), undefined);
        assert.equal(familyOf("policies.kyverno.io/v1", "ClusterPolicy"), undefined);
        assert.equal(familyOf("v1", "ConfigMap"), undefined);
        assert.deepEqual(enforceOperations({ apiVersion: "kyverno.io/v1", kind: "ValidatingPolicy", name: "p", document: { spec: {} } }), []);
    });
});

describe("a policy's action as written", () => {
    test("failure actions are read case-insensitively; anything else is no action", () => {
        assert.equal(normaliseAction("enforce"), "Enforce");
        assert.equal(normaliseAction("AUDIT"), "Audit");
        assert.equal(normaliseAction("Deny"), undefined);
        assert.equal(normaliseAction(1), undefined);
    });

    test("rules combine to None, one action, or Mixed", () => {
        assert.equal(combineActions([]), "None");
        assert.equal(combineActions(["Enforce", "Enforce"]), "Enforce");
        assert.equal(combineActions(["Audit", "Enforce"]), "Mixed");
    });

    test("override entries give their actions and skip malformed ones", () => {
        assert.deepEqual(overrideActions([{ action: "Enforce" }, { action: "bogus" }, "x", { action: "audit" }]), ["Enforce", "Audit"]);
        assert.deepEqual(overrideActions(undefined), []);
    });

    test("CEL validationActions: unset denies (Kyverno's default), Deny enforces, otherwise audit", () => {
        assert.equal(validationActionsEnforcement(undefined), "Enforce");
        assert.equal(validationActionsEnforcement(["Audit", "Deny"]), "Enforce");
        assert.equal(validationActionsEnforcement(["Audit", "Warn"]), "Audit");
    });
});
