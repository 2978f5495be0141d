/**
 * What the end-to-end scenario asks of the real Kyverno: start its controllers once the program's
 * cluster exists, admit or deny Pods, and find results in PolicyReports. Every read goes through
 * the cluster's kubectl; an error reading is an error, never "nothing there".
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { kubeconfigOnceCreated, type Kubectl } from "../harness/kube";
import type { E2eWorkspace } from "../harness/workspace";
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
export async function createPod(kubectl: Kubectl, manifest: string): Promise<{ code: number; output: string }> {
    const pod = JSON.parse(manifest);
    const del = await kubectl.run(["delete", "pod", "-n", pod.metadata.namespace, pod.metadata.name, "--ignore-not-found", "--wait=true", "--timeout=60s"]);
    if (del.code !== 0) throw new Error(`deleting pod ${pod.metadata.name} failed: ${del.stderr}`);
    const r = await kubectl.run(["create", "-f", "-"], { input: manifest });
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
export async function policyReportResults(kubectl: Kubectl, namespace: string): Promise<ReportResult[]> {
    const out: ReportResult[] = [];
    for (const report of (await kubectl.getJson(["policyreports.wgpolicyk8s.io", "-n", namespace])).items as any[]) {
        // Kyverno writes one report per resource, naming it in `scope`.
        const scope = report.scope ? [{ kind: report.scope.kind, name: report.scope.name, namespace: report.scope.namespace }] : [];
        for (const res of (report.results ?? []) as any[]) {
            out.push({ policy: res.policy, rule: res.rule, result: res.result, message: res.message, resources: (res.resources ?? scope) as ReportResult["resources"] });
        }
    }
    return out;
}

/**
 * A Deployment for the readiness checks: labelled for require-team-label, one replica on kwok's
 * nodes, and no old ReplicaSets kept (a fixed Deployment leaves no failing ReplicaSet behind).
 */
export function testDeployment(name: string, namespace: string, image: string): string {
    const labels = { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "e2e" };
    return JSON.stringify({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace, labels },
        spec: {
            replicas: 1,
            revisionHistoryLimit: 0,
            selector: { matchLabels: { "app.kubernetes.io/name": name } },
            template: { metadata: { labels }, spec: { containers: [{ name: "app", image }] } },
        },
    });
}

/** Kyverno's results per policy over every PolicyReport and ClusterPolicyReport, counted from `kubectl get … -o json`. */
export async function reportCounts(kubectl: Kubectl): Promise<Record<string, Record<string, number>>> {
    const counts: Record<string, Record<string, number>> = {};
    for (const report of (await kubectl.getJson(["policyreports.wgpolicyk8s.io,clusterpolicyreports.wgpolicyk8s.io", "-A"])).items as any[]) {
        for (const r of (report.results ?? []) as any[]) {
            if (typeof r.source === "string" && !/kyverno/i.test(r.source)) continue;
            counts[r.policy] ??= {};
            counts[r.policy][r.result] = (counts[r.policy][r.result] ?? 0) + 1;
        }
    }
    return counts;
}

/** `<Kind> <namespace>/<name>` of every resource failing one of `policies`, over every report. */
export async function failingResources(kubectl: Kubectl, policies: readonly string[]): Promise<string[]> {
    const out = new Set<string>();
    for (const report of (await kubectl.getJson(["policyreports.wgpolicyk8s.io,clusterpolicyreports.wgpolicyk8s.io", "-A"])).items as any[]) {
        for (const r of (report.results ?? []) as any[]) {
            if (r.result !== "fail" || !policies.includes(r.policy)) continue;
            for (const res of (r.resources ?? (report.scope ? [report.scope] : [])) as any[]) {
                out.add(`${r.policy}: ${res.kind} ${res.namespace ? `${res.namespace}/` : ""}${res.name}`);
            }
        }
    }
    return [...out].sort();
}
