/**
 * The Kyverno webhook cleanup's script (lib/sh/kyverno-webhook-cleanup.sh after lib/sh/kubectl.sh),
 * run as its Command runs it (its command line under /bin/sh, the script and its parameters in the
 * environment) against a fake kubectl whose cluster state evolves poll by poll (pods that linger, a departing controller that re-registers a webhook), so
 * every branch runs without a cluster. The end-to-end run proves it against real Kyverno.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { WEBHOOK_CLEANUP_COMMAND, webhookCleanupEnvironment } from "../../lib/kyverno";
import { runCommandLine, scriptFile } from "../support/scripts";

interface FakeCluster {
    /** Admission-controller pods per `get pods` call (the last entry repeats). */
    pods: string[][];
    /** Webhook configurations present now. */
    webhooks: string[];
    /** Configurations a still-running controller registers again after the next delete (once). */
    reRegister?: string[];
    /** Make every `get` fail like an unreachable API server. */
    unreachable?: boolean;
}

/**
 * A kubectl stand-in (plain sh, so a poll costs milliseconds) keeping the cluster in files:
 * pods.<n> for the n-th pod listing, webhooks, re-register, and a log of every call.
 */
function fakeKubectl(dir: string, cluster: FakeCluster): void {
    cluster.pods.forEach((pods, i) => fs.writeFileSync(path.join(dir, `pods.${i}`), pods.map((p) => `pod/${p}\n`).join("")));
    fs.writeFileSync(path.join(dir, "webhooks"), cluster.webhooks.map((w) => `${w}\n`).join(""));
    if (cluster.reRegister) fs.writeFileSync(path.join(dir, "re-register"), cluster.reRegister.map((w) => `${w}\n`).join(""));
    fs.writeFileSync(path.join(dir, "kubectl"), `#!/bin/sh
d=${JSON.stringify(dir)}
echo "$*" >> "$d/calls.log"
${cluster.unreachable ? 'if [ "$1" = get ]; then echo "The connection to the server 127.0.0.1:1 was refused" >&2; exit 1; fi' : ""}
case "$1 $2" in
  "get pods")
    n=$(cat "$d/pod-calls" 2>/dev/null || echo 0); echo $((n + 1)) > "$d/pod-calls"
    [ -f "$d/pods.$n" ] || n=${cluster.pods.length - 1}
    cat "$d/pods.$n" ;;
  get*) cat "$d/webhooks" ;;
  delete*)
    sed 's/$/ deleted/' "$d/webhooks" >&2
    if [ -f "$d/re-register" ]; then mv "$d/re-register" "$d/webhooks"; else : > "$d/webhooks"; fi ;;
esac
`, { mode: 0o755 });
}

function run(cluster: FakeCluster, timeoutSeconds = 10) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kyverno-cleanup-"));
    fakeKubectl(dir, cluster);
    const environment = webhookCleanupEnvironment({ namespace: "kyverno", timeoutSeconds, pollSeconds: 0.2, quietPolls: 2 });
    const r = runCommandLine(WEBHOOK_CLEANUP_COMMAND, environment, { binDir: dir });
    const calls = fs.readFileSync(path.join(dir, "calls.log"), "utf8").trim().split("\n");
    const final = { webhooks: fs.readFileSync(path.join(dir, "webhooks"), "utf8").split("\n").filter(Boolean) };
    fs.rmSync(dir, { recursive: true, force: true });
    return { ...r, calls, final };
}

const VWC = "validatingwebhookconfiguration.admissionregistration.k8s.io/kyverno-resource-validating-webhook-cfg";
const MWC = "mutatingwebhookconfiguration.admissionregistration.k8s.io/kyverno-policy-mutating-webhook-cfg";
const deletes = (calls: string[]) => calls.filter((c) => c.startsWith("delete "));

describe("Kyverno webhook cleanup", () => {
    test("deletes the labelled configurations once no admission-controller pod is left, then succeeds", () => {
        const r = run({ pods: [[]], webhooks: [VWC, MWC] });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.final.webhooks, []);
        assert.deepEqual(deletes(r.calls), ["delete validatingwebhookconfigurations,mutatingwebhookconfigurations -l webhook.kyverno.io/managed-by=kyverno --ignore-not-found"]);
        // What it watches: the release's admission-controller pods and Kyverno's labelled configurations.
        assert.equal(r.calls[0], "get pods -n kyverno -l app.kubernetes.io/component=admission-controller -o name");
        assert.equal(r.calls[1], "get validatingwebhookconfigurations,mutatingwebhookconfigurations -l webhook.kyverno.io/managed-by=kyverno -o name");
    });

    test("waits while admission-controller pods run (they would register the webhooks again)", () => {
        const r = run({ pods: [["kyverno-admission-controller-1"], ["kyverno-admission-controller-1"], []], webhooks: [VWC] });
        assert.equal(r.status, 0, r.stderr);
        const firstDelete = r.calls.findIndex((c) => c.startsWith("delete "));
        const podPolls = r.calls.slice(0, firstDelete).filter((c) => c.startsWith("get pods"));
        assert.equal(podPolls.length, 3, "the delete waited for the third pod poll, the first without pods");
        assert.deepEqual(r.final.webhooks, []);
    });

    test("a configuration registered again by a departing controller is deleted again", () => {
        const r = run({ pods: [[]], webhooks: [VWC], reRegister: [VWC] });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(deletes(r.calls).length, 2);
        assert.deepEqual(r.final.webhooks, []);
    });

    test("nothing to remove: no delete at all", () => {
        const r = run({ pods: [[]], webhooks: [] });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(deletes(r.calls), []);
    });

    test("pods that never go: fails after the timeout naming the pods, the configurations and the fix", () => {
        const r = run({ pods: [["kyverno-admission-controller-1"]], webhooks: [VWC] }, 1);
        assert.equal(r.status, 1);
        assert.deepEqual(deletes(r.calls), [], "never deletes while a controller runs");
        assert.match(r.stderr, /Kyverno's webhooks were not removed within 1s after the uninstall:/);
        assert.match(r.stderr, /admission-controller pods still running: pod\/kyverno-admission-controller-1/);
        assert.ok(r.stderr.includes(`  ${VWC}`), r.stderr);
        assert.match(r.stderr, /kubectl delete validatingwebhookconfigurations,mutatingwebhookconfigurations -l webhook\.kyverno\.io\/managed-by=kyverno/);
    });

    test("an API error is a failure, never taken as nothing left", () => {
        const r = run({ pods: [[]], webhooks: [VWC], unreachable: true });
        assert.equal(r.status, 1);
        assert.match(r.stderr, /cannot list Kyverno's pods: The connection to the server 127\.0\.0\.1:1 was refused/);
    });
    test("the Command runs the files' text, with the parameters beside it", () => {
        assert.equal(WEBHOOK_CLEANUP_COMMAND, `sh -c "$POLICY_STACK_SCRIPT" kyverno-webhook-cleanup.sh`);
        assert.deepEqual(webhookCleanupEnvironment({ namespace: "kyverno", timeoutSeconds: 120 }), {
            POLICY_STACK_SCRIPT: `${scriptFile("kubectl.sh")}\n${scriptFile("kyverno-webhook-cleanup.sh")}`,
            KYVERNO_NAMESPACE: "kyverno",
            TIMEOUT_SECONDS: "120",
            POLL_SECONDS: "2",
            QUIET_POLLS: "3",
            KUBE_CONTEXT: "",
        });
    });
});
