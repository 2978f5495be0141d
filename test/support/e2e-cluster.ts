/**
 * The kwok cluster behind the kind shim, seen from the test: its kubeconfig, kubectl against it,
 * and a teardown that leaves no control-plane process behind even when the program's own
 * `kind delete` never ran.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import type { E2eWorkspace, RunResult } from "./e2e-env";

/** Names of the kwokctl clusters in the workspace. */
export async function kwokClusters(ws: E2eWorkspace): Promise<string[]> {
    const r = await ws.run(ws.tools.tools.kwokctl, ["get", "clusters"], { label: "kwokctl-get-clusters" });
    if (r.code !== 0) throw new Error(`kwokctl get clusters failed: ${r.stderr}`);
    return r.stdout.split("\n").map((s) => s.trim()).filter(Boolean);
}

/**
 * The cluster's kubeconfig (written to the workspace) once the program's `kind create` has
 * succeeded and kwokctl lists the cluster; undefined before that.
 */
export async function kubeconfigOnceCreated(ws: E2eWorkspace, cluster: string): Promise<string | undefined> {
    const created = ws.shimCalls().some((c) => c.argv[0] === "create" && c.exit === 0);
    if (!created || !(await kwokClusters(ws)).includes(cluster)) return undefined;
    return writeKubeconfig(ws, cluster);
}

/** Writes the cluster's kubeconfig (as kwokctl prints it) to the workspace and returns its path. */
export async function writeKubeconfig(ws: E2eWorkspace, cluster: string): Promise<string> {
    const r = await ws.run(ws.tools.tools.kwokctl, ["get", "kubeconfig", "--name", cluster], { label: "kwokctl-get-kubeconfig" });
    if (r.code !== 0) throw new Error(`kwokctl get kubeconfig --name ${cluster} failed: ${r.stderr}`);
    const file = path.join(ws.root, `kubeconfig-${cluster}`);
    // Atomic: several watchers (Flux, Kyverno) write it while others already read it.
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    fs.writeFileSync(tmp, r.stdout, { mode: 0o600 });
    fs.renameSync(tmp, file);
    return file;
}

/** kubectl (the one built with the control plane) against `kubeconfig`. */
export function kubectl(ws: E2eWorkspace, kubeconfig: string, args: string[], label?: string): Promise<RunResult> {
    return ws.run(ws.tools.tools.kubectl, args, { env: { KUBECONFIG: kubeconfig }, label: label ?? `kubectl-${args.slice(0, 2).join("-")}`, timeoutMs: 120_000 });
}

/** `kubectl get -o json`, parsed; throws on a non-zero exit. */
export async function kubectlJson<T = any>(ws: E2eWorkspace, kubeconfig: string, args: string[]): Promise<T> {
    const r = await kubectl(ws, kubeconfig, ["get", ...args, "-o", "json"]);
    if (r.code !== 0) throw new Error(`kubectl get ${args.join(" ")} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
}

/** Live pids of the control-plane processes kwokctl started in this workspace. */
export function kwokPids(ws: E2eWorkspace): number[] {
    const clustersDir = path.join(ws.kwokWorkdir, "clusters");
    const pids: number[] = [];
    if (!fs.existsSync(clustersDir)) return pids;
    for (const c of fs.readdirSync(clustersDir)) {
        const dir = path.join(clustersDir, c, "pids");
        if (!fs.existsSync(dir)) continue;
        for (const f of fs.readdirSync(dir)) {
            const pid = Number(fs.readFileSync(path.join(dir, f), "utf8").trim());
            if (!Number.isInteger(pid) || pid <= 0) continue;
            try {
                process.kill(pid, 0);
                pids.push(pid);
            } catch {
                /* not running */
            }
        }
    }
    return pids;
}

/**
 * Deletes every kwok cluster of the workspace (used in `after` hooks, when the scenario's own
 * destroy did not get that far), then kills any control-plane process still alive.
 */
export async function deleteAllClusters(ws: E2eWorkspace): Promise<string[]> {
    const deleted: string[] = [];
    let names: string[] = [];
    try {
        names = await kwokClusters(ws);
    } catch {
        /* fall through to the pid backstop */
    }
    for (const name of names) {
        await ws.run(ws.tools.tools.kwokctl, ["delete", "cluster", "--name", name], { label: "kwokctl-delete-cluster", timeoutMs: 120_000 });
        deleted.push(name);
    }
    for (const pid of kwokPids(ws)) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            /* gone */
        }
    }
    return deleted;
}
