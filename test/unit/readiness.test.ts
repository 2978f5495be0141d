import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readiness, readinessLines, summariseReports } from "../../lib/preview/readiness";

// Shaped like Kyverno 1.19's reports: one per resource, the resource in `scope`, no `resources` on results.
const report = (kind: string, namespace: string, name: string, results: { policy: string; result: string; rule?: string; source?: string }[]) => ({
    apiVersion: "wgpolicyk8s.io/v1alpha2", kind: "PolicyReport", metadata: { name: "uid", namespace },
    scope: { apiVersion: "apps/v1", kind, namespace, name },
    results: results.map((r) => ({ rule: "r", source: "kyverno", ...r })),
});

describe("enforcement readiness from PolicyReports", () => {
    const reports = [
        report("Deployment", "apps", "web", [{ policy: "require-team-label", result: "fail" }, { policy: "disallow-latest-tag", result: "pass" }]),
        // Two failing rules of one policy on one resource: the resource is listed once.
        report("Deployment", "apps", "api", [{ policy: "require-team-label", result: "fail", rule: "a" }, { policy: "require-team-label", result: "fail", rule: "b" }]),
        report("Pod", "apps", "debug", [{ policy: "disallow-host-path", result: "fail", source: "KyvernoValidatingPolicy" }]),
        report("Pod", "apps", "other", [{ policy: "require-team-label", result: "fail", source: "falco" }]),
        { kind: "ClusterPolicyReport", results: [{ policy: "require-team-label", result: "warn", resources: [{ kind: "Namespace", name: "team-a" }] }] },
        "not a report", { results: [{ result: "fail" }, null] },
    ];

    test("counts and failing resources per policy; other engines and malformed entries left out", () => {
        const statuses = summariseReports(reports);
        assert.deepEqual([...statuses.keys()].sort(), ["disallow-host-path", "disallow-latest-tag", "require-team-label"]);
        assert.deepEqual(statuses.get("require-team-label"), {
            pass: 0, fail: 3, warn: 1, error: 0, skip: 0,
            failing: [{ kind: "Deployment", namespace: "apps", name: "api" }, { kind: "Deployment", namespace: "apps", name: "web" }],
        });
        assert.equal(statuses.get("disallow-latest-tag")?.pass, 1);
        assert.deepEqual(statuses.get("disallow-host-path")?.failing, [{ kind: "Pod", namespace: "apps", name: "debug" }]);
    });

    test("results that list their resources name them rather than the scope", () => {
        const statuses = summariseReports([{ scope: { kind: "Pod", name: "x", namespace: "n" }, results: [{ policy: "p", result: "fail", resources: [{ kind: "Secret", name: "s", namespace: "n" }] }] }]);
        assert.deepEqual(statuses.get("p")?.failing, [{ kind: "Secret", namespace: "n", name: "s" }]);
    });

    test("only the policies about to enforce count; lines cap the list and give the total", () => {
        const statuses = summariseReports(reports);
        const result = readiness(["require-team-label", "disallow-latest-tag"], statuses);
        assert.deepEqual(result.blocked.map((b) => b.policy), ["require-team-label"]);
        assert.equal(result.total, 2);
        assert.deepEqual(readinessLines(result, 1), [
            "enforcement readiness: 2 existing resources fail a policy about to enforce; Kyverno will block them at the next create or update:",
            "  require-team-label: 2 existing resources fail it: Deployment apps/api and 1 more",
        ]);
        assert.deepEqual(readinessLines(readiness(["disallow-latest-tag"], statuses)), []);
        assert.deepEqual(readinessLines(readiness(["require-team-label", "disallow-host-path"], statuses)).slice(0, 1), [
            "enforcement readiness: 3 existing resources fail 2 policies about to enforce; Kyverno will block them at the next create or update:",
        ]);
    });
});
