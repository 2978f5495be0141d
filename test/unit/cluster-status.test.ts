/**
 * The cluster read of enforcement readiness and of the enforcementStatus output: the script
 * (lib/sh/policy-status.sh after kubectl.sh) run as its Command runs it against a fake kubectl,
 * and the parser of what it prints. The go-templates themselves meet the real kubectl and Kyverno
 * in the end-to-end run.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { enforcementStatusOutput, liveAction, parseClusterStatus } from "../../lib/preview/clusterStatus";
import { runPolicyStatus } from "../../lib/preview/readCluster";
import { POLICY_STATUS_COMMAND, policyResource, policyStatusEnvironment } from "../../lib/policyStatus";
import { calls, fakeTool, runCommandLine } from "../support/scripts";

const POLICIES = [
    { apiVersion: "kyverno.io/v1", kind: "ClusterPolicy", name: "disallow-latest-tag" },
    { apiVersion: "policies.kyverno.io/v1", kind: "ValidatingPolicy", name: "disallow-host-path" },
    { apiVersion: "kyverno.io/v1", kind: "Policy", name: "require-labels", namespace: "team-a" },
    { apiVersion: "kyverno.io/v2", kind: "PolicyException", name: "exempt", namespace: "team-a" },
];

/** A kubectl whose answers are `case` arms over its arguments. */
function kubectl(arms: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-status-"));
    fakeTool(dir, "kubectl", `[ -n "\${KUBECONFIG:-}" ] && { printf 'KUBECONFIG=%s\\n' "$KUBECONFIG"; cat "$KUBECONFIG"; echo; } >> "$d/kubeconfig.log"
case "$*" in
${arms}
esac`);
    return dir;
}

const HEALTHY = `
  *"--raw /version"*) echo '{}' ;;
  *"get clusterpolicies.kyverno.io"*) printf 'policy\\tkyverno.io/v1\\tClusterPolicy\\t-\\tdisallow-latest-tag\\tAudit\\t-\\t-,Enforce,\\n' ;;
  *"get policies.kyverno.io"*) printf 'policy\\tkyverno.io/v1\\tPolicy\\tteam-a\\trequire-labels\\t-\\t-\\t-,\\n' ;;
  *"get validatingpolicies"*) echo "error: the server doesn't have a resource type \\"validatingpolicies\\"" >&2; exit 1 ;;
  *"get policyreports"*) printf 'disallow-latest-tag\\tfail\\tkyverno\\tDeployment\\tapps\\tweb\\ndisallow-latest-tag\\tfail\\tkyverno\\tDeployment\\tapps\\tweb\\ndisallow-latest-tag\\tpass\\tkyverno\\tPod\\tapps\\tok\\nteam-a/require-labels\\tfail\\tKyverno\\tPod\\tteam-a\\tx\\nother\\tfail\\tfalco\\tPod\\ta\\tb\\n' ;;
  *) exit 3 ;;`;

function run(arms: string, listFailing: boolean, env: Record<string, string> = {}) {
    const dir = kubectl(arms);
    const r = runCommandLine(POLICY_STATUS_COMMAND, policyStatusEnvironment({ policies: POLICIES, listFailing, context: "prod" }), { binDir: dir, env });
    const log = path.join(dir, "kubeconfig.log");
    const result = { ...r, calls: calls(dir), kubeconfigLog: fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "" };
    fs.rmSync(dir, { recursive: true, force: true });
    return result;
}

describe("policy-status.sh", () => {
    test("reads each enforcing kind once, with the context; the resources follow the kind table", () => {
        assert.deepEqual(POLICIES.map(policyResource), ["clusterpolicies.kyverno.io", "validatingpolicies.policies.kyverno.io", "policies.kyverno.io", undefined]);
        assert.equal(policyStatusEnvironment({ policies: POLICIES, listFailing: false }).POLICY_RESOURCES,
            "clusterpolicies.kyverno.io policies.kyverno.io validatingpolicies.policies.kyverno.io");
        const r = run(HEALTHY, true);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.calls.map((c) => c.split(" ").slice(0, 5).join(" ")), [
            "kubectl [--context] [prod] [get] [--raw]",
            "kubectl [--context] [prod] [get] [clusterpolicies.kyverno.io]",
            "kubectl [--context] [prod] [get] [policies.kyverno.io]",
            "kubectl [--context] [prod] [get] [validatingpolicies.policies.kyverno.io]",
            "kubectl [--context] [prod] [get] [policyreports.wgpolicyk8s.io,clusterpolicyreports.wgpolicyk8s.io]",
        ]);
        assert.ok(r.calls.slice(1).every((c) => c.includes("[--request-timeout=20s]") && c.includes("[-A]") && c.includes("go-template=")));
    });

    test("counts Kyverno's results per policy (other engines left out) and lists each failing resource once", () => {
        const r = run(HEALTHY, true);
        assert.equal(r.stdout, [
            "policy\tkyverno.io/v1\tClusterPolicy\t-\tdisallow-latest-tag\tAudit\t-\t-,Enforce,",
            "policy\tkyverno.io/v1\tPolicy\tteam-a\trequire-labels\t-\t-\t-,",
            "missing\tvalidatingpolicies.policies.kyverno.io",
            "count\tdisallow-latest-tag\tfail\t2",
            "count\tdisallow-latest-tag\tpass\t1",
            "count\tteam-a/require-labels\tfail\t1",
            "failing\tdisallow-latest-tag\tDeployment\tapps\tweb",
            "failing\tteam-a/require-labels\tPod\tteam-a\tx",
            "",
        ].join("\n"));
        assert.doesNotMatch(run(HEALTHY, false).stdout, /^failing/m, "counts only for the Command");
    });

    test("an unreachable cluster is one line and exit 0; unreadable reports too", () => {
        const down = run(`*) echo 'The connection to the server 127.0.0.1:1 was refused' >&2; exit 1 ;;`, true);
        assert.equal(down.status, 0);
        assert.equal(down.stdout, "unreachable\tThe connection to the server 127.0.0.1:1 was refused\n");
        const noReports = run(HEALTHY.replace(/\*"get policyreports"\*\)[^\n]*/, `*"get policyreports"*) echo 'error: the server doesn'"'"'t have a resource type "policyreports"' >&2; exit 1 ;;`), false);
        assert.equal(noReports.status, 0, noReports.stderr);
        assert.match(noReports.stdout, /^unread\treports\terror: the server doesn't have a resource type "policyreports"$/m);
    });

    test("the kubeconfig goes to a private file that is gone afterwards", () => {
        const r = run(HEALTHY, false, { KUBECONFIG_DATA: "apiVersion: v1\nkind: Config\n" });
        assert.equal(r.status, 0, r.stderr);
        const file = /KUBECONFIG=(\S+)/.exec(r.kubeconfigLog)?.[1];
        assert.ok(file, r.kubeconfigLog);
        assert.match(r.kubeconfigLog, /kind: Config/);
        assert.equal(fs.existsSync(file), false, "removed on exit");
    });

    test("the program's runner: the output, or why the script did not finish", async () => {
        const dir = kubectl(HEALTHY);
        const saved = process.env.PATH;
        process.env.PATH = `${dir}:${saved}`;
        try {
            assert.match(await runPolicyStatus({ policies: POLICIES, listFailing: true }), /^count\tdisallow-latest-tag\tfail\t2$/m);
            const empty = fs.mkdtempSync(path.join(os.tmpdir(), "no-kubectl-"));
            process.env.PATH = `${empty}:/usr/bin:/bin`;
            fs.writeFileSync(path.join(empty, "kubectl"), "#!/bin/sh\nsleep 5\n", { mode: 0o755 });
            await assert.rejects(runPolicyStatus({ policies: POLICIES, listFailing: true, timeoutMs: 300 }), /reading the cluster took longer than 0s/);
            fs.rmSync(empty, { recursive: true, force: true });
        } finally {
            process.env.PATH = saved;
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("parseClusterStatus", () => {
    const text = [
        "policy\tkyverno.io/v1\tClusterPolicy\t-\tdisallow-latest-tag\tAudit\t-\t-,Enforce,",
        "policy\tkyverno.io/v1\tClusterPolicy\t-\tall-enforce\tEnforce\t-\t-,-,",
        "policy\tkyverno.io/v1\tClusterPolicy\t-\tmutate-only\t-\t-\t",
        "policy\tpolicies.kyverno.io/v1\tValidatingPolicy\t-\tdisallow-host-path\t-\tAudit,Warn,\t",
        "policy\tpolicies.kyverno.io/v1\tValidatingPolicy\t-\tdefault-deny\t-\t-\t",
        "policy\tkyverno.io/v1\tPolicy\tteam-a\trequire-labels\t-\t-\t-,",
        "missing\tnamespacedvalidatingpolicies.policies.kyverno.io",
        "count\tdisallow-latest-tag\tfail\t2",
        "count\tdisallow-latest-tag\tpass\t1",
        "failing\tdisallow-latest-tag\tPod\tapps\tz",
        "failing\tdisallow-latest-tag\tDeployment\tapps\tweb",
        "garbage line",
        "",
    ].join("\n");

    test("live actions by Kyverno's defaults: rule over spec over Audit; CEL validationActions, unset meaning Deny", () => {
        const s = parseClusterStatus(text);
        const action = (k: string) => s.policies.get(k)?.action;
        assert.equal(action("disallow-latest-tag"), "Mixed");
        assert.equal(action("all-enforce"), "Enforce");
        assert.equal(action("mutate-only"), "None");
        assert.equal(action("disallow-host-path"), "Audit");
        assert.equal(action("default-deny"), "Enforce");
        assert.equal(action("team-a/require-labels"), "Audit");
        assert.equal(liveAction("kyverno.io/v2", "PolicyException", undefined, undefined, []), "None");
        assert.deepEqual(s.missing, ["namespacedvalidatingpolicies.policies.kyverno.io"]);
        assert.deepEqual(s.unread, []);
    });

    test("report counts and failing resources, sorted", () => {
        const s = parseClusterStatus(text);
        assert.deepEqual(s.reports?.get("disallow-latest-tag"), {
            pass: 1, fail: 2, warn: 0, error: 0, skip: 0,
            failing: [{ kind: "Deployment", namespace: "apps", name: "web" }, { kind: "Pod", namespace: "apps", name: "z" }],
        });
    });

    test("unreadable reports leave `reports` undefined; an unreachable cluster says so", () => {
        const s = parseClusterStatus("unread\treports\tforbidden: cannot list\n");
        assert.equal(s.reports, undefined);
        assert.deepEqual(s.unread, ["reports: forbidden: cannot list"]);
        assert.equal(parseClusterStatus("unreachable\tconnection refused\n").unreachable, "connection refused");
    });

    test("the enforcementStatus output: the stack's policies with action and counts; NotFound, or Unknown when the kinds could not be read", () => {
        const stack = [{ name: "disallow-latest-tag", kind: "ClusterPolicy" }, { name: "require-labels", namespace: "team-a", kind: "Policy" }, { name: "new-one", kind: "ClusterPolicy" }];
        assert.deepEqual(enforcementStatusOutput(stack, parseClusterStatus(text)), {
            policies: [
                { name: "disallow-latest-tag", kind: "ClusterPolicy", action: "Mixed", pass: 1, fail: 2, warn: 0, error: 0, skip: 0 },
                { name: "require-labels", namespace: "team-a", kind: "Policy", action: "Audit", pass: 0, fail: 0, warn: 0, error: 0, skip: 0 },
                { name: "new-one", kind: "ClusterPolicy", action: "NotFound", pass: 0, fail: 0, warn: 0, error: 0, skip: 0 },
            ],
            unread: [],
        });
        const down = enforcementStatusOutput(stack.slice(0, 1), parseClusterStatus("unreachable\tconnection refused\n"));
        assert.deepEqual(down, { policies: [{ name: "disallow-latest-tag", kind: "ClusterPolicy", action: "Unknown", pass: 0, fail: 0, warn: 0, error: 0, skip: 0 }], unread: ["cluster: connection refused"] });
    });
});
