/**
 * Runs the real Kyverno controllers for the end-to-end cluster the way its pods would come and go:
 * a watcher polls the chart's Deployments and, for each one this harness can run, starts the
 * controller as a local process when the Deployment appears, restarts it when the Deployment's
 * generation changes (a rollout), and stops it (SIGTERM) when the Deployment is deleted. In the
 * kwok cluster the Deployments' pods are faked, so these processes are Kyverno's only instances.
 *
 * What the process gets is what the pod would: the container's args and env from the Deployment
 * (fieldRef values resolved as the kubelet would), plus what running out of the cluster needs:
 *
 * - `--kubeconfig` (without it Kyverno falls back to the in-cluster config and exits);
 * - admission controller: `--serverIP=127.0.0.1:<port>`, `--webhookServerHost=127.0.0.1`,
 *   `--webhookServerPort=<port>`: the webhook configurations Kyverno registers then point at
 *   https://127.0.0.1:<port>/…, which the API server (a local process) reaches, with a certificate
 *   Kyverno generates itself carrying 127.0.0.1 as an IP SAN;
 * - free metrics ports (`--metricsHost/--metricsPort`), controller-runtime metrics off, TUF_ROOT in
 *   the work dir: several processes share one host.
 *
 * Run: the admission controller (`cmd/kyverno`: webhooks, policy status) and the reports
 * controller (`cmd/reports-controller`: background scans and PolicyReports). Not run: the
 * background controller (generate and mutate-existing rules only) and the cleanup controller
 * (cleanup policies): no policy of this project uses them; their Deployments stay kwok-faked.
 *
 * One difference from a pod that users would notice: with `--serverIP` Kyverno considers itself
 * in debug mode and never removes its webhooks on shutdown (in a cluster, a pod that sees its
 * Deployment going away does). The program's webhook cleanup step covers that; this harness never
 * deletes a webhook configuration, so the end-to-end checks see what the program leaves.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { Kubectl } from "../harness/kube";
import { distinctFreePorts, httpStatus, launch, prefixed, stopProc, type Proc } from "../harness/processes";

/** Deployment name → binary, for the controllers this harness runs. */
export const KYVERNO_CONTROLLERS: Record<string, string> = {
    "kyverno-admission-controller": "kyverno",
    "kyverno-reports-controller": "reports-controller",
};

export interface KyvernoControllersOptions {
    /** kubectl (the one built with the control plane). */
    kubectl: string;
    /** Directory with `kyverno` and `reports-controller`. */
    binDir: string;
    /** kubeconfig file of the API server. */
    kubeconfig: string;
    /** Logs and TUF root go here. Created if missing. */
    workDir: string;
    /** Namespace of the chart's Deployments. Defaults to `kyverno`. */
    namespace?: string;
    /** Milliseconds between polls of the Deployments. Defaults to 1000. */
    pollMs?: number;
}

interface Running {
    proc: Proc;
    generation: number;
    /** The admission controller's webhook server, for readiness. */
    webhookUrl?: string;
}

/** A container's env entry as the API returns it. */
interface EnvVar {
    name: string;
    value?: string;
    valueFrom?: { fieldRef?: { fieldPath: string } };
}

/**
 * The argv and environment of one controller: the Deployment's container, resolved as the kubelet
 * would, plus the out-of-cluster flags. Pure: tested directly.
 */
export function controllerCommand(deployment: any, o: { kubeconfig: string; workDir: string; ports: number[] }): { args: string[]; env: Record<string, string>; webhookPort?: number } {
    const container = deployment.spec.template.spec.containers[0];
    const podName = `${deployment.metadata.name}-local`;
    const env: Record<string, string> = {};
    const unresolved: string[] = [];
    for (const e of (container.env ?? []) as EnvVar[]) {
        if (e.value !== undefined) env[e.name] = e.value;
        else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[e.name] = podName;
        else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") env[e.name] = deployment.metadata.namespace;
        else unresolved.push(e.name);
    }
    if (unresolved.length > 0) throw new Error(`${deployment.metadata.name}: cannot resolve env ${unresolved.join(", ")} outside a pod`);
    env.TUF_ROOT = path.join(o.workDir, "sigstore");

    const flags = new Map<string, string>();
    for (const a of (container.args ?? []) as string[]) {
        const m = /^--?([^=]+)(?:=(.*))?$/.exec(a);
        if (!m) throw new Error(`${deployment.metadata.name}: unexpected container arg ${JSON.stringify(a)}`);
        flags.set(m[1], m[2] ?? "true");
    }
    const [metricsPort, webhookPort] = o.ports;
    flags.set("kubeconfig", o.kubeconfig);
    flags.set("metricsHost", "127.0.0.1");
    flags.set("metricsPort", String(metricsPort));
    if (flags.has("controllerRuntimeMetricsAddress")) flags.set("controllerRuntimeMetricsAddress", "0");
    const admission = deployment.metadata.name === "kyverno-admission-controller";
    if (admission) {
        flags.set("serverIP", `127.0.0.1:${webhookPort}`);
        flags.set("webhookServerHost", "127.0.0.1");
        flags.set("webhookServerPort", String(webhookPort));
    }
    return { args: [...flags].map(([k, v]) => `--${k}=${v}`), env, webhookPort: admission ? webhookPort : undefined };
}

/** Watches the Deployments and keeps one process per Deployment, until `stop()`. */
export class KyvernoControllers {
    private readonly running = new Map<string, Running>();
    private readonly history: Proc[] = [];
    private readonly events: string[] = [];
    private stopped = false;
    private readonly loop: Promise<void>;
    private readonly namespace: string;
    private readonly kubectl: Kubectl;

    constructor(private readonly o: KyvernoControllersOptions) {
        this.namespace = o.namespace ?? "kyverno";
        this.kubectl = new Kubectl(o.kubectl, o.kubeconfig);
        fs.mkdirSync(path.join(o.workDir, "sigstore"), { recursive: true });
        this.loop = this.watch();
    }

    /** What happened so far: starts, restarts and stops, with times. */
    timeline(): string[] {
        return [...this.events];
    }

    /** Names of the Deployments whose controller runs now. */
    runningControllers(): string[] {
        return [...this.running.keys()].sort();
    }

    /** Every controller's output (current and past processes). */
    logs(): string {
        return this.history.map(prefixed).join("\n");
    }

    /** Resolves once the admission controller's webhook server answers ready (its TLS secrets exist). */
    async admissionReady(timeoutMs: number): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
            const url = this.running.get("kyverno-admission-controller")?.webhookUrl;
            if (url && (await httpStatus(`${url}/health/readiness`).catch(() => 0)) === 200) return;
            await new Promise((r) => setTimeout(r, 500));
        }
        throw new Error(`Kyverno's admission controller was not ready within ${timeoutMs / 1000}s:\n${this.logs().slice(-4000)}`);
    }

    /** Stops watching and stops every process (what a deleted cluster would do to its pods). */
    async stop(): Promise<void> {
        this.stopped = true;
        await this.loop;
        await Promise.all([...this.running.keys()].map((name) => this.stopController(name, "harness stopped")));
    }

    private note(text: string): void {
        const line = `${new Date().toISOString()} ${text}`;
        this.events.push(line);
        fs.appendFileSync(path.join(this.o.workDir, "timeline.log"), line + "\n");
    }

    private async deployments(): Promise<any[] | undefined> {
        const r = await this.kubectl.run(["get", "deployments", "-n", this.namespace, "-o", "json"], { timeoutMs: 30_000 });
        // No answer (the API server is not up yet, or already gone): change nothing this round.
        return r.code === 0 ? JSON.parse(r.stdout).items : undefined;
    }

    private async watch(): Promise<void> {
        while (!this.stopped) {
            try {
                const items = await this.deployments();
                if (items) await this.reconcile(items);
            } catch (e) {
                this.note(`watch error: ${(e as Error).message}`);
            }
            await new Promise((r) => setTimeout(r, this.o.pollMs ?? 1000));
        }
    }

    private async reconcile(items: any[]): Promise<void> {
        const present = new Map(items.filter((d) => d.metadata.name in KYVERNO_CONTROLLERS).map((d) => [d.metadata.name as string, d]));
        for (const name of [...this.running.keys()]) {
            const d = present.get(name);
            if (!d || d.metadata.deletionTimestamp) await this.stopController(name, "Deployment deleted");
            else if (d.metadata.generation !== this.running.get(name)!.generation) await this.stopController(name, `Deployment generation ${d.metadata.generation}`);
        }
        for (const [name, d] of present) {
            if (this.stopped || d.metadata.deletionTimestamp || this.running.has(name)) continue;
            if ((d.spec.replicas ?? 1) === 0) continue;
            await this.startController(name, d);
        }
    }

    private async startController(name: string, deployment: any): Promise<void> {
        const bin = path.join(this.o.binDir, KYVERNO_CONTROLLERS[name]);
        const cmd = controllerCommand(deployment, { kubeconfig: this.o.kubeconfig, workDir: this.o.workDir, ports: await distinctFreePorts(2) });
        const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost", ...cmd.env };
        const proc = launch(name, bin, cmd.args, env, path.join(this.o.workDir, `${name}.log`));
        this.history.push(proc);
        this.running.set(name, { proc, generation: deployment.metadata.generation, webhookUrl: cmd.webhookPort ? `https://127.0.0.1:${cmd.webhookPort}` : undefined });
        this.note(`started ${name} (pid ${proc.child.pid}, generation ${deployment.metadata.generation})`);
        void proc.exited.then(() => {
            if (this.running.get(name)?.proc === proc) {
                this.running.delete(name);
                this.note(`${name} exited on its own`);
            }
        });
    }

    private async stopController(name: string, why: string): Promise<void> {
        const r = this.running.get(name);
        if (!r) return;
        this.running.delete(name);
        // Kyverno's server takes up to 30 s to drain on SIGTERM, as in a pod's grace period.
        await stopProc(r.proc, 30_000);
        this.note(`stopped ${name}: ${why}`);
    }
}
