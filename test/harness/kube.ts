/**
 * The one kube helper: kubectl bound to a kubeconfig, polling until an object reaches a state, and
 * the kwok clusters the tests run: a throw-away one of their own (`startKwokCluster`, the Flux
 * controller test) or the one the program creates through the kind shim in an end-to-end
 * workspace (`kubeconfigOnceCreated`, `deleteAllClusters`, …).
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { run, type RunResult } from "./processes";
import { ensureTools } from "./tools";
import type { E2eWorkspace } from "./workspace";

/** How kubectl's commands run: the plain runner, or a workspace's (logged under `label`; `quiet`: no log). */
export type KubectlRunner = (cmd: string, args: string[], o: { input?: string; timeoutMs?: number; label?: string; quiet?: boolean }) => Promise<RunResult>;

const plainRunner: KubectlRunner = (cmd, args, o) => run(cmd, args, { input: o.input, timeoutMs: o.timeoutMs });

/** kubectl bound to one kubeconfig. */
export class Kubectl {
    constructor(readonly bin: string, readonly kubeconfig: string, private readonly runner: KubectlRunner = plainRunner) {}

    /** Never throws on a non-zero exit. Defaults to a 120 s timeout. */
    run(args: string[], opts: { input?: string; timeoutMs?: number; quiet?: boolean } = {}): Promise<RunResult> {
        return this.runner(this.bin, ["--kubeconfig", this.kubeconfig, ...args], {
            input: opts.input,
            timeoutMs: opts.timeoutMs ?? 120_000,
            quiet: opts.quiet,
            label: `kubectl-${args.slice(0, 2).join("-")}`,
        });
    }

    /** Runs and returns stdout; throws with stderr on failure. */
    async ok(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
        const r = await this.run(args, opts);
        if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
        return r.stdout;
    }

    /** `kubectl get <args> -o json`, parsed; throws on any error, so an unreadable list never reads as empty. */
    async getJson<T = any>(args: string[]): Promise<T> {
        return JSON.parse(await this.ok(["get", ...args, "-o", "json"])) as T;
    }

    /** The object as JSON, or undefined when it does not exist. */
    async get(kind: string, name: string, namespace?: string): Promise<any | undefined> {
        const r = await this.run(["get", kind, name, ...(namespace ? ["-n", namespace] : []), "-o", "json"]);
        if (r.code !== 0) {
            if (/NotFound|not found/.test(r.stderr)) return undefined;
            throw new Error(`kubectl get ${kind} ${name} failed: ${r.stderr.trim()}`);
        }
        return JSON.parse(r.stdout);
    }

    /** `kubectl apply --server-side` of a manifest string (JSON or YAML). */
    apply(manifest: string, extra: string[] = []): Promise<string> {
        return this.ok(["apply", "--server-side", "--force-conflicts", "--field-manager=flux-test", ...extra, "-f", "-"], { input: manifest });
    }

    /**
     * The rows of `kubectl get <args>` as the user sees them: column name → cell (printer columns
     * come from the CRDs).
     */
    async table(args: string[]): Promise<Record<string, string>[]> {
        const lines = (await this.ok(["get", ...args])).split("\n").filter((l) => l.trim().length > 0);
        if (lines.length === 0) return [];
        const header = lines[0];
        // Columns start where a header word starts; cells are cut at those offsets.
        const starts = [...header.matchAll(/\S+/g)].map((m) => m.index!);
        const names = [...header.matchAll(/\S+/g)].map((m) => m[0]);
        return lines.slice(1).map((line) => Object.fromEntries(names.map((n, i) => [n, line.slice(starts[i], starts[i + 1] ?? undefined).trim()])));
    }
}

/** The Ready condition of a Flux object, if any. */
export function readyCondition(obj: any): { status: string; reason?: string; message?: string; observedGeneration?: number } | undefined {
    return (obj?.status?.conditions ?? []).find((c: any) => c.type === "Ready");
}

/**
 * Polls `get` until `check` returns a value (not undefined), or throws after `timeoutMs` with the
 * last object seen (and `describe()` for context).
 */
export async function waitFor<T>(what: string, get: () => Promise<any>, check: (obj: any) => T | undefined, timeoutMs: number, describe?: () => string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: any;
    for (;;) {
        last = await get();
        const v = check(last);
        if (v !== undefined) return v;
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen:\n${JSON.stringify(last?.status ?? last, null, 2)}${describe ? `\n${describe().slice(-8000)}` : ""}`);
        }
        await new Promise((r) => setTimeout(r, 250));
    }
}

// ---------------------------------------------------------------- a kwok cluster of the test's own

export interface KwokCluster {
    name: string;
    kubeconfig: string;
    kubectl: Kubectl;
    /** `kwokctl delete cluster`; safe to call twice. */
    stop(): Promise<void>;
}

export interface StartKwokClusterOptions {
    name: string;
    /** KWOK_WORKDIR and the kubeconfig live here. */
    workDir: string;
    binDir?: string;
    /** Run kube-controller-manager and kube-scheduler too. Defaults to false (the Flux tests need only the API server). */
    withControllers?: boolean;
    timeoutMs?: number;
}

/**
 * `kwokctl create cluster --runtime binary`, every component from the local tool cache (no
 * download), kubeconfig in `<workDir>/kubeconfig`.
 */
export async function startKwokCluster(o: StartKwokClusterOptions): Promise<KwokCluster> {
    const t = await ensureTools(["kwokctl", "kwok", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"], { binDir: o.binDir });
    fs.mkdirSync(o.workDir, { recursive: true });
    const kubeconfig = path.join(o.workDir, "kubeconfig");
    const env: NodeJS.ProcessEnv = { ...process.env, KWOK_WORKDIR: path.join(o.workDir, "kwok"), KWOK_KUBECTL_BINARY: t.kubectl };
    delete env.KUBECONFIG;
    const args = [
        "create", "cluster",
        "--name", o.name,
        "--runtime", "binary",
        "--kube-apiserver-binary", t["kube-apiserver"],
        "--kube-controller-manager-binary", t["kube-controller-manager"],
        "--kube-scheduler-binary", t["kube-scheduler"],
        "--kwok-controller-binary", t.kwok,
        "--etcd-binary", t.etcd,
        "--kubeconfig", kubeconfig,
        "--quiet-pull",
        "--wait", "2m",
    ];
    if (!o.withControllers) args.push("--disable-kube-controller-manager", "--disable-kube-scheduler");
    let stopped: Promise<void> | undefined;
    const stop = () => (stopped ??= run(t.kwokctl, ["delete", "cluster", "--name", o.name, "--kubeconfig", kubeconfig], { env, timeoutMs: 120_000 }).then(() => undefined));
    const r = await run(t.kwokctl, args, { env, timeoutMs: o.timeoutMs ?? 300_000 });
    if (r.code !== 0) {
        await stop();
        throw new Error(`kwokctl create cluster failed (${r.code}):\n${r.stderr.slice(-6000)}\n${r.stdout.slice(-2000)}`);
    }
    return { name: o.name, kubeconfig, kubectl: new Kubectl(t.kubectl, kubeconfig), stop };
}

// ---------------------------------------------------------------- the workspace's cluster (behind the kind shim)

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
