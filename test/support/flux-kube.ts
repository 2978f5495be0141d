/**
 * A throw-away kwok cluster (`kwokctl create cluster --runtime binary` with the locally built
 * control plane, no downloads) and small kubectl helpers, for the Flux controller tests. The
 * end-to-end harness has its own cluster (the `kind` shim); this one is for testing Flux alone.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { ensureTools } from "./flux-tools";

export interface ExecResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs a command without a shell; never throws on a non-zero exit. */
export function exec(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    return new Promise((resolve) => {
        const child = execFile(cmd, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
            const code = err ? (typeof (err as NodeJS.ErrnoException).code === "number" ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
            resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && !stderr ? String(err.message) : "") });
        });
        if (opts.input !== undefined) child.stdin!.end(opts.input);
    });
}

/** kubectl bound to one kubeconfig. */
export class Kubectl {
    constructor(readonly bin: string, readonly kubeconfig: string) {}

    run(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
        return exec(this.bin, ["--kubeconfig", this.kubeconfig, ...args], opts);
    }

    /** Runs and returns stdout; throws with stderr on failure. */
    async ok(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
        const r = await this.run(args, opts);
        if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
        return r.stdout;
    }

    /** `kubectl apply --server-side` of a manifest string (JSON or YAML). */
    apply(manifest: string, extra: string[] = []): Promise<string> {
        return this.ok(["apply", "--server-side", "--force-conflicts", "--field-manager=flux-test", ...extra, "-f", "-"], { input: manifest });
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
    const stop = () => (stopped ??= exec(t.kwokctl, ["delete", "cluster", "--name", o.name, "--kubeconfig", kubeconfig], { env, timeoutMs: 120_000 }).then(() => undefined));
    const r = await exec(t.kwokctl, args, { env, timeoutMs: o.timeoutMs ?? 300_000 });
    if (r.code !== 0) {
        await stop();
        throw new Error(`kwokctl create cluster failed (${r.code}):\n${r.stderr.slice(-6000)}\n${r.stdout.slice(-2000)}`);
    }
    return { name: o.name, kubeconfig, kubectl: new Kubectl(t.kubectl, kubeconfig), stop };
}
