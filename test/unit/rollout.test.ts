import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { enforcedBy, enforcementFlips, planProblems, policyKey } from "../../lib/policies/rollout";
import { enforcementPatches, patchedBy, type PatchablePolicy } from "../../lib/policies/enforcement";

const clusterPolicy = (name: string): PatchablePolicy => ({
    apiVersion: "kyverno.io/v1", kind: "ClusterPolicy", name,
    document: { spec: { rules: [{ name: "r", validate: { pattern: {} } }] } },
});
const namespacedPolicy = (namespace: string, name: string): PatchablePolicy => ({
    apiVersion: "kyverno.io/v1", kind: "Policy", name, namespace,
    document: { spec: { rules: [{ name: "r", validate: { pattern: {} } }] } },
});
const celPolicy = (name: string): PatchablePolicy => ({
    apiVersion: "policies.kyverno.io/v1", kind: "ValidatingPolicy", name, document: { spec: { validations: [] } },
});

const policies = [clusterPolicy("require-team-label"), clusterPolicy("disallow-latest-tag"), celPolicy("disallow-host-path"), namespacedPolicy("apps", "require-probes")];

describe("per-policy rollout", () => {
    test("a namespaced policy is named namespace/name, a cluster-scoped one by its name", () => {
        assert.equal(policyKey(policies[0]), "require-team-label");
        assert.equal(policyKey(policies[3]), "apps/require-probes");
    });

    test("stack-wide modes enforce all or none", () => {
        assert.deepEqual(policies.map(enforcedBy("enforce")), [true, true, true, true]);
        assert.deepEqual(policies.map(enforcedBy("audit")), [false, false, false, false]);
    });

    test("a plan: listed names differ from the default, the rest follow it", () => {
        const auditFirst = enforcedBy({ default: "audit", enforce: ["disallow-latest-tag", "apps/require-probes"], audit: [] });
        assert.deepEqual(policies.map(auditFirst), [false, true, false, true]);
        const enforceFirst = enforcedBy({ default: "enforce", enforce: [], audit: ["disallow-host-path"] });
        assert.deepEqual(policies.map(enforceFirst), [true, true, false, true]);
    });

    test("the patches of a plan select exactly the enforced policies, CEL and classic alike", () => {
        const patches = enforcementPatches(policies, { default: "audit", enforce: ["disallow-host-path", "require-team-label"], audit: [] });
        const patched = patchedBy(patches);
        assert.deepEqual(policies.map(patched), [true, false, true, false]);
        assert.deepEqual(patches.map((p) => [p.target.kind, p.names]), [["ClusterPolicy", ["require-team-label"]], ["ValidatingPolicy", ["disallow-host-path"]]]);
        // The stack-wide modes are the plans with empty lists.
        assert.deepEqual(enforcementPatches(policies, { default: "enforce", enforce: [], audit: [] }), enforcementPatches(policies, "enforce"));
        assert.deepEqual(enforcementPatches(policies, { default: "audit", enforce: [], audit: [] }), []);
    });

    test("unknown names are a problem that lists the known policies; a name in both lists too", () => {
        const problems = planProblems({ default: "audit", enforce: ["require-team-lable", "require-probes"], audit: ["require-team-lable"] }, policies);
        assert.deepEqual(problems, [
            'enforcement.enforce names "require-team-lable", "require-probes", which are not in the artifact; known policies: ' +
                "apps/require-probes, disallow-host-path, disallow-latest-tag, require-team-label (a namespaced policy is written namespace/name)",
            'enforcement.audit names "require-team-lable", which is not in the artifact; known policies: ' +
                "apps/require-probes, disallow-host-path, disallow-latest-tag, require-team-label (a namespaced policy is written namespace/name)",
            'enforcement: "require-team-lable" is listed under both enforce and audit; keep each policy in one list',
        ]);
        assert.deepEqual(planProblems({ default: "enforce", enforce: ["apps/require-probes"], audit: ["disallow-host-path"] }, policies), []);
        assert.deepEqual(planProblems("enforce", []), []);
    });

    test("flips name each policy whose enforcement changes, in policy order", () => {
        assert.deepEqual(enforcementFlips("audit", { default: "audit", enforce: ["disallow-latest-tag"], audit: [] }, policies), ["disallow-latest-tag: audit → enforce"]);
        assert.deepEqual(enforcementFlips({ default: "enforce", enforce: [], audit: ["apps/require-probes"] }, "audit", policies), [
            "require-team-label: enforce → audit", "disallow-latest-tag: enforce → audit", "disallow-host-path: enforce → audit",
        ]);
        assert.deepEqual(enforcementFlips("enforce", "enforce", policies), []);
    });
});
