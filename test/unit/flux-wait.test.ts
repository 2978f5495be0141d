/**
 * The Flux status check's script (lib/sh/flux-wait.sh after lib/sh/kubectl.sh), run as its Command
 * runs it (its command line under /bin/sh, the script and its parameters in the environment)
 * against a fake kubectl that serves canned Flux status, so both outcomes are exercised without a
 * cluster (the end-to-end run uses real Flux).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FLUX_WAIT_COMMAND, fluxWaitEnvironment, FluxWaitOptions, KUSTOMIZATION_RESOURCE, OCI_REPOSITORY_RESOURCE, RECONCILE_REQUESTED_AT } from "../../lib/fluxWait";
import { runCommand } from "../harness/command-local";
import { runCommandLine, scriptFile } from "../support/scripts";

const REVISION = "1.0.0@sha256:" + "a".repeat(64);

/**
 * A kubectl stand-in: answers `[--context c] get <resource> -n ns name -o jsonpath=<expr>` from a
 * JSON file of objects keyed by resource, evaluating only the jsonpath shapes the script uses;
 * `annotate` succeeds for an object it has.
 */
function fakeKubectl(dir: string, objects: Record<string, unknown>): void {
    fs.writeFileSync(path.join(dir, "objects.json"), JSON.stringify(objects));
    fs.writeFileSync(path.join(dir, "kubectl"), `#!/usr/bin/env node
const objects = require(${JSON.stringify(path.join(dir, "objects.json"))});
let args = process.argv.slice(2);
const context = args[0] === "--context" ? args[1] : "";
if (context) args = args.slice(2);
require("fs").appendFileSync(${JSON.stringify(path.join(dir, "calls.log"))}, args.join(" ") + " CONTEXT=" + context + " PATH_OF_KUBECONFIG=" + (process.env.KUBECONFIG ?? "") + " KUBECONFIG=" + (process.env.KUBECONFIG ? require("fs").readFileSync(process.env.KUBECONFIG, "utf8") : "") + "\\n");
const obj = objects[args[0] === "annotate" ? args[2] : args[1]];
if (!obj) { console.error("Error from server (NotFound)"); process.exit(1); }
const out = args.find((a) => a.startsWith("jsonpath="));
if (!out) process.exit(0);
const expr = out.slice("jsonpath={".length, -1);
const m = /^\\.status\\.conditions\\[\\?\\(@\\.type=="(\\w+)"\\)\\]\\.(\\w+)$/.exec(expr);
const cond = m ? (obj.status?.conditions ?? []).find((c) => c.type === m[1]) ?? {} : {};
const value = m ? cond[m[2]] : expr.split(".").slice(1).reduce((o, k) => (o == null ? undefined : o[k]), obj);
process.stdout.write(value === undefined ? "" : String(value));
`, { mode: 0o755 });
}

const OPTIONS: FluxWaitOptions = { namespace: "flux-system", name: "kyverno-policies", revision: REVISION, timeoutSeconds: 5, pollSeconds: 1 };

function runScript(objects: Record<string, unknown>, timeoutSeconds: number, env: Record<string, string> = {}, options: Partial<FluxWaitOptions> = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flux-wait-"));
    fakeKubectl(dir, objects);
    const environment = fluxWaitEnvironment({ ...OPTIONS, timeoutSeconds, ...options });
    const r = runCommandLine(FLUX_WAIT_COMMAND, environment, { binDir: dir, env });
    const calls = fs.existsSync(path.join(dir, "calls.log")) ? fs.readFileSync(path.join(dir, "calls.log"), "utf8") : "";
    fs.rmSync(dir, { recursive: true, force: true });
    return { ...r, calls };
}

const kustomization = (revision: string, status: string, message: string, generation = 2, observed = 2) => ({
    metadata: { generation },
    status: { lastAppliedRevision: revision, conditions: [{ type: "Ready", status, reason: status === "True" ? "ReconciliationSucceeded" : "ArtifactFailed", message, observedGeneration: observed }] },
});

describe("Flux status check", () => {
    test("succeeds once the Kustomization applied the revision at the current generation", () => {
        const r = runScript({ "kustomizations.kustomize.toolkit.fluxcd.io": kustomization(REVISION, "True", `Applied revision: ${REVISION}`) }, 5);
        assert.equal(r.status, 0, r.stderr);
    });

    test("a Ready condition of an older generation does not count", () => {
        const r = runScript({ "kustomizations.kustomize.toolkit.fluxcd.io": kustomization(REVISION, "True", "old", 3, 2) }, 1);
        assert.equal(r.status, 1);
    });

    test("on timeout it quotes Flux's Ready messages for both objects", () => {
        const auth = "failed to determine the artifact tag for 'oci://127.0.0.1:5000/p': GET https://127.0.0.1:5000/v2/p/tags/list?n=1000: UNAUTHORIZED: authentication required";
        const r = runScript({
            "ocirepositories.source.toolkit.fluxcd.io": { metadata: { generation: 1 }, status: { conditions: [{ type: "Ready", status: "False", reason: "ReadOperationFailed", message: auth }] } },
            "kustomizations.kustomize.toolkit.fluxcd.io": kustomization("1.0.0@sha256:old", "False", "Source artifact not found, retrying in 30s"),
        }, 2);
        assert.equal(r.status, 1);
        assert.match(r.stderr, new RegExp(`Flux did not apply ${REVISION.replace(/[.]/g, "\\.")} within 2s:`));
        assert.ok(r.stderr.includes(`ocirepositories/flux-system/kyverno-policies: Ready=False (ReadOperationFailed): ${auth}`), r.stderr);
        assert.ok(r.stderr.includes("kustomizations/flux-system/kyverno-policies: Ready=False (ArtifactFailed): Source artifact not found, retrying in 30s"), r.stderr);
    });

    test("objects that were never created are named as such", () => {
        const r = runScript({}, 1);
        assert.equal(r.status, 1);
        assert.match(r.stderr, /ocirepositories\/flux-system\/kyverno-policies: not created/);
    });

    test("the kubeconfig comes from KUBECONFIG_DATA through a private temp file, removed afterwards", () => {
        const r = runScript({ "kustomizations.kustomize.toolkit.fluxcd.io": kustomization(REVISION, "True", "ok") }, 5, { KUBECONFIG_DATA: "apiVersion: v1\nkind: Config\n" });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.calls, /KUBECONFIG=apiVersion: v1\nkind: Config/);
        const file = /PATH_OF_KUBECONFIG=(\S+)/.exec(r.calls);
        assert.ok(file, "kubectl saw a kubeconfig file");
        assert.equal(fs.existsSync(file[1]), false, "the temp kubeconfig is gone");
    });

    test("the temp kubeconfig is removed when the check is stopped by a signal too", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flux-wait-"));
        fakeKubectl(dir, {});
        const environment = fluxWaitEnvironment({ ...OPTIONS, timeoutSeconds: 60 });
        const child = spawn("/bin/sh", ["-c", FLUX_WAIT_COMMAND], {
            detached: true,
            stdio: "ignore",
            env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, ...environment, KUBECONFIG_DATA: "apiVersion: v1\nkind: Config\n" },
        });
        const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
        const log = path.join(dir, "calls.log");
        const deadline = Date.now() + 10_000;
        while (!(fs.existsSync(log) && /get kustomizations/.test(fs.readFileSync(log, "utf8"))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const file = /PATH_OF_KUBECONFIG=(\S+)/.exec(fs.readFileSync(log, "utf8"));
        assert.ok(file && fs.existsSync(file[1]), "the temp kubeconfig exists while the check runs");
        process.kill(-child.pid!, "SIGTERM");
        await exited;
        // The outer shell may exit first; the script's own shell removes the file on its way out.
        const gone = Date.now() + 5_000;
        while (fs.existsSync(file[1]) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
        fs.rmSync(dir, { recursive: true, force: true });
        assert.equal(fs.existsSync(file[1]), false, "the temp kubeconfig is gone");
    });

    test("KUBE_CONTEXT puts --context on every kubectl call", () => {
        const r = runScript({ "kustomizations.kustomize.toolkit.fluxcd.io": kustomization(REVISION, "True", "ok") }, 5, {}, { context: "prod's context" });
        assert.equal(r.status, 0, r.stderr);
        const lines = r.calls.split("\n").filter((l) => / CONTEXT=/.test(l));
        assert.ok(lines.length >= 6, r.calls);
        for (const line of lines) assert.match(line, / CONTEXT=prod's context /);
    });

    test("asks Flux to reconcile the revision now on both objects, as flux reconcile does", () => {
        const r = runScript({ "kustomizations.kustomize.toolkit.fluxcd.io": kustomization(REVISION, "True", "ok") }, 5);
        assert.equal(r.status, 0, r.stderr);
        for (const resource of [OCI_REPOSITORY_RESOURCE, KUSTOMIZATION_RESOURCE]) {
            assert.ok(r.calls.includes(`annotate --overwrite ${resource} -n flux-system kyverno-policies ${RECONCILE_REQUESTED_AT}=${REVISION} `), r.calls);
        }
    });

    describe("with signature verification (FLUX_VERIFY)", () => {
        const refused = "failed to verify the signature using provider 'cosign': no matching signatures were found for '127.0.0.1:5000/p:1.0.0'";
        const source = (status: string, message: string) => ({
            metadata: { generation: 1 },
            status: { conditions: [
                { type: "Ready", status, reason: status === "True" ? "Succeeded" : "VerificationError", message },
                { type: "SourceVerified", status, reason: status === "True" ? "Succeeded" : "VerificationError", message },
            ] },
        });

        test("succeeds once the revision is applied and the source reports SourceVerified=True", () => {
            const r = runScript({
                [OCI_REPOSITORY_RESOURCE]: source("True", "verified signature of revision 1.0.0"),
                [KUSTOMIZATION_RESOURCE]: kustomization(REVISION, "True", "ok"),
            }, 5, {}, { verify: true });
            assert.equal(r.status, 0, r.stderr);
        });

        test("an applied revision whose source is no longer verified fails, quoting Flux's SourceVerified message", () => {
            const r = runScript({
                [OCI_REPOSITORY_RESOURCE]: source("False", refused),
                [KUSTOMIZATION_RESOURCE]: kustomization(REVISION, "True", "ok"),
            }, 1, {}, { verify: true });
            assert.equal(r.status, 1);
            assert.match(r.stderr, /Flux applied 1\.0\.0@sha256:a+, but does not report its source verified within 1s \(it keeps the policies it last verified\):/);
            assert.ok(r.stderr.includes(`ocirepositories/flux-system/kyverno-policies: SourceVerified=False (VerificationError): ${refused}`), r.stderr);
        });

        test("without FLUX_VERIFY the SourceVerified condition is not read", () => {
            const r = runScript({
                [OCI_REPOSITORY_RESOURCE]: source("False", refused),
                [KUSTOMIZATION_RESOURCE]: kustomization(REVISION, "True", "ok"),
            }, 1);
            assert.equal(r.status, 0, r.stderr);
            assert.doesNotMatch(r.calls, /SourceVerified/);
        });

        test("the environment says so only when on", () => {
            assert.equal(fluxWaitEnvironment({ ...OPTIONS, verify: true }).FLUX_VERIFY, "true");
            assert.equal("FLUX_VERIFY" in fluxWaitEnvironment(OPTIONS), false);
        });
    });

    test("a missing parameter fails naming it", () => {
        const r = runScript({}, 5, { FLUX_REVISION: "" });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /FLUX_REVISION is required/);
    });

    test("the Command runs the files' text, with the parameters beside it and nothing interpolated", () => {
        const env = fluxWaitEnvironment({ ...OPTIONS, timeoutSeconds: 299.7, context: "c" });
        assert.equal(FLUX_WAIT_COMMAND, `sh -c "$POLICY_STACK_SCRIPT" flux-wait.sh`);
        assert.deepEqual(env, {
            POLICY_STACK_SCRIPT: `${scriptFile("kubectl.sh")}\n${scriptFile("flux-wait.sh")}`,
            FLUX_NAMESPACE: "flux-system",
            FLUX_NAME: "kyverno-policies",
            FLUX_REVISION: REVISION,
            TIMEOUT_SECONDS: "299",
            POLL_SECONDS: "1",
            KUBE_CONTEXT: "c",
        });
    });

    test("a failure as pulumi-command reports it: the short command line, then Flux's messages", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flux-wait-"));
        fakeKubectl(dir, {
            "ocirepositories.source.toolkit.fluxcd.io": { metadata: { generation: 1 }, status: { conditions: [{ type: "Ready", status: "False", reason: "ReadOperationFailed", message: "UNAUTHORIZED" }] } },
            "kustomizations.kustomize.toolkit.fluxcd.io": kustomization("1.0.0@sha256:old", "False", "Source artifact not found, retrying in 30s"),
        });
        const environment = { ...fluxWaitEnvironment({ ...OPTIONS, timeoutSeconds: 1 }), PATH: `${dir}:${process.env.PATH}` };
        const failure = await runCommand(FLUX_WAIT_COMMAND, { create: FLUX_WAIT_COMMAND, environment }, () => undefined).then(() => undefined, (e: Error) => e.message);
        fs.rmSync(dir, { recursive: true, force: true });
        assert.ok(failure, "the command fails");
        assert.equal(failure.split("\n")[0], `exit status 1: running "sh -c \\"$POLICY_STACK_SCRIPT\\" flux-wait.sh":`);
        assert.match(failure.split("\n")[1], new RegExp(`^Flux did not apply ${REVISION.replace(/[.]/g, "\\.")} within 1s:$`));
        assert.match(failure, /kustomizations\/flux-system\/kyverno-policies: Ready=False \(ArtifactFailed\): Source artifact not found/);
        assert.equal(failure.includes("deadline="), false, "no script text in the error");
    });
});
