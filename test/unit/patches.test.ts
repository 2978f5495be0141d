import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { enforcementPatches, enforceOperations, PatchablePolicy } from "../../lib/patches";
import { samplePoliciesDir, repoRoot } from "../support/paths";
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

describe("Kustomization patches", () => {
    test("audit stacks patch nothing", () => {
        assert.deepEqual(enforcementPatches(readPolicies(samplePoliciesDir), "audit"), []);
    });
    test("enforce: one patch per sample policy, targeted by group/version/kind/name", () => {
        const policies = readPolicies(samplePoliciesDir);
        const patches = enforcementPatches(policies, "enforce");
        assert.equal(patches.length, policies.length, "every sample policy validates something");
        for (const p of patches) {
            assert.equal(p.target.group, "kyverno.io");
            assert.equal(p.target.version, "v1");
            assert.equal(p.target.kind, "ClusterPolicy");
            assert.deepEqual(JSON.parse(p.patch), p.operations, "the patch string is the operations");
        }
        const names = patches.map((p) => p.target.name);
        assert.deepEqual(names, [...names].sort(), "stable order, so previews do not reorder");
    });
    test("the repository's own policies: the mutate-only one is left alone, the CEL one is patched", () => {
        const policies = readPolicies(path.join(repoRoot, "policies"));
        const patches = enforcementPatches(policies, "enforce");
        assert.ok(!patches.some((p) => p.target.name === "add-default-seccomp"));
        const cel = patches.find((p) => p.target.kind === "ValidatingPolicy");
        assert.ok(cel, "ValidatingPolicy patched");
        assert.equal(cel.target.group, "policies.kyverno.io");
    });
    test("namespaced policies are targeted by namespace", () => {
        const [patch] = enforcementPatches([{ ...classic([{ name: "a", validate: {} }]), kind: "Policy", namespace: "team-a" }], "enforce");
        assert.equal(patch.target.namespace, "team-a");
    });
});
