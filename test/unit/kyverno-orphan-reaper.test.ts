/**
 * The Kyverno uninstall helper's watcher (lib/sh/kyverno-orphan-reaper.sh after lib/sh/kubectl.sh),
 * run as its Command runs it against a fake kubectl whose aggregated ClusterRoles and Helm release
 * record change poll by poll; and its detached start, run through the Command stand-in, which
 * waits for the command's streams as pulumi-command does.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ORPHAN_REAPER_COMMAND, ORPHAN_REAPER_SCRIPT, orphanReaperEnvironment } from "../../lib/kyverno";
import { scriptCommand } from "../../lib/scripts";
import { runCommand } from "../harness/command-local";
import { runCommandLine, scriptFile } from "../support/scripts";

interface FakeCluster {
    /** ClusterRoles now, with their app.kubernetes.io/managed-by label ("" for none). */
    roles: Record<string, string>;
    /** How many release-record listings still find the record. */
    recordPolls: number;
    /** A role the aggregation controller re-creates, unlabelled, at the given listing. */
    recreate?: { atPoll: number; role: string };
    unreachable?: boolean;
}

/** A kubectl stand-in (plain sh) keeping the cluster in files: roles/<name>, the listing count. */
function fakeKubectl(dir: string, cluster: FakeCluster): void {
    fs.mkdirSync(path.join(dir, "roles"));
    for (const [role, label] of Object.entries(cluster.roles)) fs.writeFileSync(path.join(dir, "roles", role), label);
    fs.writeFileSync(path.join(dir, "kubectl"), `#!/bin/sh
d=${JSON.stringify(dir)}
echo "$*" >> "$d/calls.log"
echo "\${KUBECONFIG:-}" >> "$d/kubeconfigs.log"
${cluster.unreachable ? 'echo "The connection to the server 127.0.0.1:1 was refused" >&2; exit 1' : ""}
case "$1 $2" in
  "get clusterrole")
    [ -f "$d/roles/$3" ] || { echo "Error from server (NotFound)" >&2; exit 1; }
    case "$*" in *jsonpath=*) cat "$d/roles/$3" ;; esac ;;
  "delete clusterrole")
    rm -f "$d/roles/$3"; echo "clusterrole.rbac.authorization.k8s.io \\"$3\\" deleted" ;;
  "get secrets")
    n=$(cat "$d/record-polls" 2>/dev/null || echo 0); echo $((n + 1)) > "$d/record-polls"
    ${cluster.recreate ? `[ "$n" = ${cluster.recreate.atPoll} ] && : > "$d/roles/${cluster.recreate.role}"` : ":"}
    if [ "$n" -lt ${cluster.recordPolls} ]; then echo secret/sh.helm.release.v1.kyverno.v1; else : > "$d/released"; fi ;;
esac
`, { mode: 0o755 });
}

const OPTIONS = { release: "kyverno", namespace: "kyverno", pollSeconds: 0.1 };

function run(cluster: FakeCluster, timeoutSeconds = 10) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kyverno-reaper-"));
    fakeKubectl(dir, cluster);
    const started = Date.now();
    const r = runCommandLine(scriptCommand(ORPHAN_REAPER_SCRIPT), orphanReaperEnvironment({ ...OPTIONS, timeoutSeconds }), { binDir: dir });
    const seconds = (Date.now() - started) / 1000;
    const calls = fs.readFileSync(path.join(dir, "calls.log"), "utf8").trim().split("\n");
    const roles = fs.readdirSync(path.join(dir, "roles")).sort();
    fs.rmSync(dir, { recursive: true, force: true });
    return { ...r, calls, roles, seconds };
}

const deletes = (calls: string[]) => calls.filter((c) => c.startsWith("delete "));

describe("Kyverno orphan reaper", () => {
    test("deletes the aggregated roles that lost Helm's label, also re-created ones, until the release record is gone", () => {
        const r = run({
            roles: { "kyverno:admission-controller": "Helm", "kyverno:reports-controller": "" },
            recordPolls: 3,
            recreate: { atPoll: 1, role: "kyverno:background-controller" },
        });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(deletes(r.calls), [
            "delete clusterrole kyverno:reports-controller --ignore-not-found",
            "delete clusterrole kyverno:background-controller --ignore-not-found",
        ]);
        assert.deepEqual(r.roles, ["kyverno:admission-controller"], "Helm's own role is left to Helm");
        assert.ok(r.calls.includes("get clusterrole kyverno:admission-controller -o jsonpath={.metadata.labels.app\\.kubernetes\\.io/managed-by}"), r.calls.join("\n"));
        const listings = r.calls.filter((c) => c.startsWith("get secrets"));
        assert.deepEqual([...new Set(listings)], ["get secrets -n kyverno -l owner=helm,name=kyverno -o name"]);
        assert.equal(listings.length, 4, "stops at the first listing without the record");
        for (const controller of ["admission-controller", "background-controller", "cleanup-controller", "reports-controller"]) {
            assert.ok(r.calls.includes(`get clusterrole kyverno:${controller}`), controller);
        }
    });

    test("never fails: an unreachable cluster ends it at once", () => {
        const r = run({ roles: {}, recordPolls: 100, unreachable: true });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(deletes(r.calls), []);
        assert.equal(r.calls.filter((c) => c.startsWith("get secrets")).length, 1);
    });

    test("never fails: a release record that stays ends it after the timeout", () => {
        // date +%s has whole seconds: a 2 s timeout ends after 1 to 2 s (and a poll).
        const r = run({ roles: {}, recordPolls: 1_000_000 }, 2);
        assert.equal(r.status, 0, r.stderr);
        assert.ok(r.seconds >= 1 && r.seconds < 6, `ran ${r.seconds}s`);
    });

    test("the Command starts it detached: it returns at once while the watcher goes on with the environment", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kyverno-reaper-"));
        fakeKubectl(dir, { roles: { "kyverno:reports-controller": "" }, recordPolls: 5, recreate: { atPoll: 3, role: "kyverno:cleanup-controller" } });
        const environment = {
            ...orphanReaperEnvironment({ ...OPTIONS, pollSeconds: 0.2, timeoutSeconds: 30 }),
            KUBECONFIG_DATA: "apiVersion: v1\nkind: Config\n",
            PATH: `${dir}:${process.env.PATH}`,
        };
        const outputs = await runCommand(ORPHAN_REAPER_COMMAND, { delete: ORPHAN_REAPER_COMMAND, environment }, () => undefined);
        assert.deepEqual(outputs, { stdout: "", stderr: "" });
        assert.equal(fs.existsSync(path.join(dir, "released")), false, "the command returned while the release record still existed");
        const deadline = Date.now() + 15_000;
        while (!fs.existsSync(path.join(dir, "released")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.ok(fs.existsSync(path.join(dir, "released")), "the watcher ran until the release record was gone");
        assert.deepEqual(fs.readdirSync(path.join(dir, "roles")), [], "it deleted the orphans, also one re-created after the command returned");
        const kubeconfigs = new Set(fs.readFileSync(path.join(dir, "kubeconfigs.log"), "utf8").trim().split("\n"));
        assert.equal(kubeconfigs.size, 1);
        const [kubeconfig] = kubeconfigs;
        assert.notEqual(kubeconfig, "", "kubectl got the kubeconfig from KUBECONFIG_DATA");
        const gone = Date.now() + 5_000;
        while (fs.existsSync(kubeconfig) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
        assert.equal(fs.existsSync(kubeconfig), false, "and the watcher removed its temp file when done");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("the Command runs the files' text, with the parameters beside it", () => {
        assert.equal(ORPHAN_REAPER_COMMAND, `nohup sh -c "$POLICY_STACK_SCRIPT" kyverno-orphan-reaper.sh </dev/null >/dev/null 2>&1 &`);
        assert.deepEqual(orphanReaperEnvironment({ release: "kyverno", namespace: "kyverno", timeoutSeconds: 660 }), {
            POLICY_STACK_SCRIPT: `${scriptFile("kubectl.sh")}\n${scriptFile("kyverno-orphan-reaper.sh")}`,
            HELM_RELEASE: "kyverno",
            HELM_NAMESPACE: "kyverno",
            TIMEOUT_SECONDS: "660",
            POLL_SECONDS: "2",
            KUBE_CONTEXT: "",
        });
    });
});
