/**
 * What the end-to-end scenario asks of the real Kyverno: start its controllers once the program's
 * cluster exists, read policy readiness the way `kubectl get` shows it, admit or deny Pods, and
 * find results in PolicyReports. Every read goes through the cluster's kubectl; an error reading is
 * an error, never "nothing there".
 */
import * as fs from "node:fs";
import * as path from "node:path";

import type { E2eWorkspace } from "./e2e-env";
import { kubeconfigOnceCreated, kubectl } from "./e2e-cluster";
import { KyvernoControllers } from "./kyverno-controllers";

/** Polls every 2 s for the program's cluster; resolves with the controllers' watcher, or undefined when `done()` came first. */
export async function startKyvernoWhenClusterExists(o: { ws: E2eWorkspace; cluster: string; done: () => boolean }): Promise<KyvernoControllers | undefined> {
    const { ws } = o;
    while (!o.done()) {
        try {
            const kubeconfig = await kubeconfigOnceCreated(ws, o.cluster);
            if (kubeconfig) {
                return new KyvernoControllers({
                    kubectl: ws.tools.tools.kubectl,
                    binDir: path.dirname(ws.tools.tools.kyverno),
                    kubeconfig,
                    workDir: path.join(ws.root, "kyverno"),
                });
            }
        } catch (e) {
            fs.appendFileSync(path.join(ws.logDir, "kyverno-watcher.log"), `${new Date().toISOString()} ${(e as Error).message}\n`);
        }
        await new Promise((r) => setTimeout(r, 2000));
    }
    return undefined;
}

/**
 * The rows of `kubectl get <resource>` as the user sees them: column name → cell. Kyverno's own
 * printer columns (READY, ADMISSION, …) come from its CRDs.
 */
export async function kubectlTable(ws: E2eWorkspace, kubeconfig: string, args: string[]): Promise<Record<string, string>[]> {
    const r = await kubectl(ws, kubeconfig, ["get", ...args]);
    if (r.code !== 0) throw new Error(`kubectl get ${args.join(" ")} failed: ${r.stderr}`);
    const lines = r.stdout.split("\n").filter((l) => l.trim().length > 0);
    if (lines.length === 0) return [];
    const header = lines[0];
    // Columns start where a header word starts; cells are cut at those offsets.
    const starts = [...header.matchAll(/\S+/g)].map((m) => m.index!);
    const names = [...header.matchAll(/\S+/g)].map((m) => m[0]);
    return lines.slice(1).map((line) => Object.fromEntries(names.map((n, i) => [n, line.slice(starts[i], starts[i + 1] ?? undefined).trim()])));
}

/** A Pod manifest for the admission checks (kwok schedules it on a fake node; no image is pulled). */
export function testPod(name: string, namespace: string, o: { image?: string; hostPath?: boolean } = {}): string {
    return JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace, labels: { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "e2e" } },
        spec: {
            containers: [{ name: "app", image: o.image ?? "registry.example/e2e/app:1.2.3", ...(o.hostPath ? { volumeMounts: [{ name: "host", mountPath: "/host" }] } : {}) }],
            ...(o.hostPath ? { volumes: [{ name: "host", hostPath: { path: "/var/lib" } }] } : {}),
        },
    });
}

/** Creates a Pod (deleting any earlier one of that name first): exit code and what kubectl printed. */
export async function createPod(ws: E2eWorkspace, kubeconfig: string, manifest: string): Promise<{ code: number; output: string }> {
    const pod = JSON.parse(manifest);
    const del = await kubectl(ws, kubeconfig, ["delete", "pod", "-n", pod.metadata.namespace, pod.metadata.name, "--ignore-not-found", "--wait=true", "--timeout=60s"]);
    if (del.code !== 0) throw new Error(`deleting pod ${pod.metadata.name} failed: ${del.stderr}`);
    const file = path.join(ws.root, `pod-${pod.metadata.name}.json`);
    fs.writeFileSync(file, manifest);
    const r = await kubectl(ws, kubeconfig, ["create", "-f", file]);
    return { code: r.code, output: r.stdout + r.stderr };
}

export interface ReportResult {
    policy: string;
    rule?: string;
    result: string;
    message?: string;
    resources: { kind: string; name: string; namespace?: string }[];
}

/** Every result of the namespace's PolicyReports (wgpolicyk8s.io/v1alpha2). */
export async function policyReportResults(ws: E2eWorkspace, kubeconfig: string, namespace: string): Promise<ReportResult[]> {
    const r = await kubectl(ws, kubeconfig, ["get", "policyreports.wgpolicyk8s.io", "-n", namespace, "-o", "json"]);
    if (r.code !== 0) throw new Error(`kubectl get policyreports -n ${namespace} failed: ${r.stderr}`);
    const out: ReportResult[] = [];
    for (const report of JSON.parse(r.stdout).items as any[]) {
        // Kyverno writes one report per resource, naming it in `scope`.
        const scope = report.scope ? [{ kind: report.scope.kind, name: report.scope.name, namespace: report.scope.namespace }] : [];
        for (const res of (report.results ?? []) as any[]) {
            out.push({ policy: res.policy, rule: res.rule, result: res.result, message: res.message, resources: (res.resources ?? scope) as ReportResult["resources"] });
        }
    }
    return out;
}
