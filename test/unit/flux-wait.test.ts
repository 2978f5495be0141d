/**
 * The Flux status check's script, run by /bin/sh against a fake kubectl that serves canned Flux
 * status, so both outcomes are exercised without a cluster (the end-to-end run uses real Flux).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fluxWaitScript } from "../../lib/fluxWait";

const REVISION = "1.0.0@sha256:" + "a".repeat(64);

/**
 * A kubectl stand-in: answers `get <resource> -n ns name -o jsonpath=<expr>` from a JSON file of
 * objects keyed by resource, evaluating only the jsonpath shapes the script uses.
 */
function fakeKubectl(dir: string, objects: Record<string, unknown>): void {
    fs.writeFileSync(path.join(dir, "objects.json"), JSON.stringify(objects));
    fs.writeFileSync(path.join(dir, "kubectl"), `#!/usr/bin/env node
const objects = require(${JSON.stringify(path.join(dir, "objects.json"))});
const args = process.argv.slice(2);
require("fs").appendFileSync(${JSON.stringify(path.join(dir, "calls.log"))}, args.join(" ") + " PATH_OF_KUBECONFIG=" + (process.env.KUBECONFIG ?? "") + " KUBECONFIG=" + (process.env.KUBECONFIG ? require("fs").readFileSync(process.env.KUBECONFIG, "utf8") : "") + "\\n");
const obj = objects[args[1]];
if (!obj) { console.error("Error from server (NotFound)"); process.exit(1); }
const out = args.find((a) => a.startsWith("jsonpath="));
if (!out) process.exit(0);
const expr = out.slice("jsonpath={".length, -1);
const ready = (obj.status?.conditions ?? []).find((c) => c.type === "Ready") ?? {};
const m = /^\\.status\\.conditions\\[\\?\\(@\\.type=="Ready"\\)\\]\\.(\\w+)$/.exec(expr);
const value = m ? ready[m[1]] : expr.split(".").slice(1).reduce((o, k) => (o == null ? undefined : o[k]), obj);
process.stdout.write(value === undefined ? "" : String(value));
`, { mode: 0o755 });
}

function runScript(objects: Record<string, unknown>, timeoutSeconds: number, env: Record<string, string> = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flux-wait-"));
    fakeKubectl(dir, objects);
    const script = fluxWaitScript({ namespace: "flux-system", name: "kyverno-policies", revision: REVISION, timeoutSeconds, pollSeconds: 1 });
    const r = spawnSync("/bin/sh", ["-c", script], { encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, ...env } });
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
});
