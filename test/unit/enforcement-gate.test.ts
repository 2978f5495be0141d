/**
 * The enforcement gate's decisions (lib/preview/gate.ts): the flips named against what the cluster
 * holds, what enforcing would block, what an unreadable cluster or missing reports say, and when
 * `block` refuses.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseClusterStatus } from "../../lib/preview/clusterStatus";
import { decideGate, enforcesAnything, type PlannedPolicy } from "../../lib/preview/gate";

const planned = (enforce: string[]): PlannedPolicy[] => [
    { name: "disallow-latest-tag", kind: "ClusterPolicy", enforcement: enforce.includes("disallow-latest-tag") ? "Enforce" : "Audit" },
    { name: "disallow-host-path", kind: "ValidatingPolicy", enforcement: enforce.includes("disallow-host-path") ? "Enforce" : "Audit" },
    { name: "add-default-seccomp", kind: "ClusterPolicy", enforcement: "None" },
    { name: "brand-new", kind: "ClusterPolicy", enforcement: enforce.includes("brand-new") ? "Enforce" : "Audit" },
];

/** The cluster audits both live policies; a Deployment and a Pod fail disallow-latest-tag. */
const AUDITING = [
    "policy\tkyverno.io/v1\tClusterPolicy\t-\tdisallow-latest-tag\tAudit\t-\t-,-,",
    "policy\tpolicies.kyverno.io/v1\tValidatingPolicy\t-\tdisallow-host-path\t-\tAudit,\t",
    "policy\tkyverno.io/v1\tClusterPolicy\t-\tadd-default-seccomp\t-\t-\t",
    "count\tdisallow-latest-tag\tfail\t2",
    "count\tdisallow-latest-tag\tpass\t4",
    "count\tdisallow-host-path\tpass\t6",
    "failing\tdisallow-latest-tag\tDeployment\tapps\tweb",
    "failing\tdisallow-latest-tag\tPod\tapps\tweb-1",
].join("\n");
const auditing = { status: parseClusterStatus(AUDITING) };

describe("enforcement gate", () => {
    test("only a stack that enforces something reads the cluster", () => {
        assert.equal(enforcesAnything(planned([])), false);
        assert.equal(enforcesAnything(planned(["disallow-host-path"])), true);
    });

    test("warn: the preview names each flip and the resources the policies about to enforce would block", () => {
        const d = decideGate(planned(["disallow-latest-tag", "disallow-host-path", "brand-new"]), auditing, "warn");
        assert.equal(d.blocked, true);
        assert.equal(d.refusal, undefined);
        assert.deepEqual(d.lines, [
            "enforcement: 3 policies change action in the cluster:",
            "  disallow-latest-tag: audit → enforce",
            "  disallow-host-path: audit → enforce",
            "  brand-new: not in the cluster → enforce",
            "enforcement readiness: 2 existing resources fail a policy about to enforce; Kyverno will block them at the next create or update:",
            "  disallow-latest-tag: 2 existing resources fail it: Deployment apps/web, Pod apps/web-1",
        ]);
    });

    test("block: the refusal names the resources, the key and the ways out", () => {
        const d = decideGate(planned(["disallow-latest-tag"]), auditing, "block", "policy-stack:enforcementGate");
        assert.equal(d.refusal, [
            "policy-stack:enforcementGate is block: enforcing would block 2 existing resources at their next create or update:",
            "  disallow-latest-tag: 2 existing resources fail it: Deployment apps/web, Pod apps/web-1",
            "fix them (Kyverno's PolicyReports show each failure), keep the policy in audit, or set 'pulumi config set policy-stack:enforcementGate warn' to enforce anyway",
        ].join("\n"));
    });

    test("block passes when the reports show nothing failing the policies about to enforce; a back-to-audit flip is named", () => {
        const live = parseClusterStatus(AUDITING.replace("disallow-latest-tag\tAudit\t-\t-,-,", "disallow-latest-tag\tAudit\t-\tEnforce,Enforce,"));
        const d = decideGate(planned(["disallow-host-path"]), { status: live }, "block");
        assert.equal(d.refusal, undefined);
        assert.deepEqual(d.lines, [
            "enforcement: 2 policies change action in the cluster:",
            "  disallow-latest-tag: enforce → audit",
            "  disallow-host-path: audit → enforce",
            "enforcement readiness: Kyverno's reports show no existing resource failing disallow-host-path",
        ]);
    });

    test("a policy with no results yet is said so, and does not block", () => {
        const live = parseClusterStatus(AUDITING.split("\n").filter((l) => !l.includes("disallow-host-path\tpass")).join("\n"));
        const d = decideGate(planned(["disallow-host-path"]), { status: live }, "block");
        assert.equal(d.refusal, undefined);
        assert.match(d.lines.at(-1)!, /no report results yet for disallow-host-path \(Kyverno's background scan has not reported on it\)/);
    });

    test("a cluster this update creates: nothing to block, whatever the gate", () => {
        const d = decideGate(planned(["disallow-latest-tag"]), { notCreated: true }, "block");
        assert.deepEqual(d, { lines: ["enforcement readiness: the cluster is created by this update; nothing runs in it yet that enforcing could block"], blocked: false });
    });

    test("an unreachable cluster never fails warn, says what it could not read; block refuses to guess", () => {
        const down = { status: parseClusterStatus("unreachable\tdial tcp 127.0.0.1:6443: connect: connection refused\n") };
        const warn = decideGate(planned(["disallow-latest-tag"]), down, "warn");
        assert.equal(warn.refusal, undefined);
        assert.deepEqual(warn.lines, ["enforcement readiness: could not read the cluster (dial tcp 127.0.0.1:6443: connect: connection refused); " +
            "which policies change action and what enforcing would block is unknown; this stack enforces disallow-latest-tag"]);
        assert.match(decideGate(planned(["disallow-latest-tag"]), down, "block").refusal ?? "", /enforcementGate is block and the cluster could not be read \(dial tcp/);
        assert.equal(decideGate(planned(["disallow-latest-tag"]), { error: "kubectl is needed on PATH" }, "warn").lines[0],
            "enforcement readiness: could not read the cluster (kubectl is needed on PATH); which policies change action and what enforcing would block is unknown; this stack enforces disallow-latest-tag");
    });

    test("missing reports never fail warn; block refuses only for policies the cluster already holds", () => {
        const noReports = parseClusterStatus(AUDITING.split("\n").filter((l) => l.startsWith("policy")).concat(["unread\treports\terror: the server doesn't have a resource type \"policyreports\""]).join("\n"));
        const warn = decideGate(planned(["disallow-latest-tag"]), { status: noReports }, "warn");
        assert.equal(warn.refusal, undefined);
        assert.equal(warn.lines.at(-1), "enforcement readiness: could not read the PolicyReports (error: the server doesn't have a resource type \"policyreports\"); what enforcing disallow-latest-tag would block is unknown");
        assert.match(decideGate(planned(["disallow-latest-tag"]), { status: noReports }, "block").refusal ?? "", /PolicyReports could not be read/);
        assert.equal(decideGate(planned(["brand-new"]), { status: noReports }, "block").refusal, undefined, "a policy new to the cluster has no reports to wait for");
    });
});
