/**
 * Runs the real Flux source-controller and kustomize-controller as local processes against a
 * given Kubernetes API server, the way they run in a cluster but out of it:
 *
 * - `KUBECONFIG` from the environment: the controllers' `--kubeconfig` flag is not wired
 *   (controller-runtime's `GetConfigOrDie` reads KUBECONFIG, then in-cluster config).
 * - `--watch-all-namespaces`, `--enable-leader-election=false` (so the artifact server starts at
 *   once: it waits for `mgr.Elected()`), distinct free `--metrics-addr` / `--health-addr` ports.
 * - source-controller: `--storage-path=<workDir>/storage`, `--storage-addr=127.0.0.1:<port>`,
 *   `--storage-adv-addr=127.0.0.1:<port>` (the artifact URLs in `.status.artifact.url` use it).
 * - kustomize-controller: `SOURCE_CONTROLLER_LOCALHOST=127.0.0.1:<port>` (it rewrites the host of
 *   artifact URLs to this before downloading).
 *
 * Only one set of controllers may reconcile Flux objects. In the end-to-end cluster the Flux
 * Deployments from install.yaml are kwok-faked pods (no container ever runs), so these processes
 * are the only reconcilers; never start two sets against the same API server.
 *
 * Registry TLS with a test CA: with `caFile`, source-controller gets `SSL_CERT_FILE` pointing at
 * the system bundle plus that CA, which Go's crypto/x509 reads as the system pool. That covers
 * OCIRepositories without `certSecretRef` (the program's). An OCIRepository with
 * `certSecretRef` (a Secret with `ca.crt`) works without it as well.
 *
 * Flux objects carry finalizers that only these controllers remove: delete the Flux objects
 * (and wait for them to go) before `stop()`.
 *
 * `startFluxWhenReady` starts them for an end-to-end `pulumi up` (the scenario and the no-op preview
 * benchmark) as soon as the program's cluster and Flux's CRDs exist.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { kubeconfigOnceCreated } from "./kube";
import { distinctFreePorts, httpStatus, launch, prefixed, stopProc } from "./processes";
import { ensureTools } from "./tools";
import type { E2eWorkspace } from "./workspace";

export interface StartFluxControllersOptions {
    /** kubeconfig of the API server (a file path). Passed as KUBECONFIG. */
    kubeconfig: string;
    /** Directory for the artifact storage, the CA bundle and the log files. Created if missing. */
    workDir: string;
    /** PEM CA that source-controller must trust for the registry (added to its system pool via SSL_CERT_FILE). */
    caFile?: string;
    /** Directory with source-controller and kustomize-controller; default: see `findTool` in tools.ts. */
    binDir?: string;
    /** `--log-level`. Defaults to `info`. */
    logLevel?: "debug" | "info" | "error";
    /** How long to wait for both health endpoints and the artifact server. Defaults to 60 s. */
    readyTimeoutMs?: number;
    /** `--concurrent` of both controllers. Defaults to 2 (light on a 2-core machine). */
    concurrent?: number;
    /** Extra environment for both processes. */
    env?: NodeJS.ProcessEnv;
}

export interface FluxControllers {
    /** `127.0.0.1:<port>`: source-controller's artifact server (storage address = advertised address). */
    sourceAddr: string;
    /** source-controller's `--storage-path`. */
    storagePath: string;
    /** Health endpoints (`http://127.0.0.1:<port>`), for diagnostics. */
    health: { source: string; kustomize: string };
    pids: { source: number; kustomize: number };
    /** Both controllers' output so far, every line prefixed with the controller name. */
    logs(): string;
    /** SIGTERM both (SIGKILL after 10 s) and wait for them to exit. Safe to call more than once. */
    stop(): Promise<void>;
}

const CONTROLLERS = ["source-controller", "kustomize-controller"] as const;

/** Common CA bundle locations (Debian first); the first one that exists is the system pool. */
const SYSTEM_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"];

/** A CA bundle = the system pool + `caFile`, written to `dir`; its path. */
export function writeCaBundle(dir: string, caFile: string): string {
    const system = SYSTEM_BUNDLES.find((f) => fs.existsSync(f));
    const parts = [system ? fs.readFileSync(system, "utf8") : "", fs.readFileSync(caFile, "utf8")];
    const out = path.join(dir, "ca-bundle.crt");
    fs.writeFileSync(out, parts.map((p) => (p.endsWith("\n") || p === "" ? p : p + "\n")).join(""));
    return out;
}

/**
 * Starts source-controller and kustomize-controller and waits until both health endpoints
 * (`/readyz`) answer 200 and the artifact server answers HTTP. Throws with their output if
 * either exits or the wait times out (and then leaves nothing running).
 */
export async function startFluxControllers(o: StartFluxControllersOptions): Promise<FluxControllers> {
    const bins = await ensureTools(CONTROLLERS, { binDir: o.binDir });
    fs.mkdirSync(o.workDir, { recursive: true });
    const storagePath = path.join(o.workDir, "storage");
    fs.mkdirSync(storagePath, { recursive: true });
    const kubeconfig = path.resolve(o.kubeconfig);
    if (!fs.existsSync(kubeconfig)) throw new Error(`kubeconfig ${kubeconfig} does not exist`);

    // A clean environment: no inherited kube/TLS settings, loopback never proxied.
    const base: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
        if (/^(KUBECONFIG|SSL_CERT_FILE|SSL_CERT_DIR|RUNTIME_NAMESPACE|SOURCE_CONTROLLER_LOCALHOST|STORAGE_.*|METRICS_ADDR|EVENTS_ADDR)$/.test(k)) continue;
        base[k] = v;
    }
    const noProxy = [base.NO_PROXY ?? base.no_proxy, "127.0.0.1", "localhost", "::1"].filter(Boolean).join(",");
    Object.assign(base, { KUBECONFIG: kubeconfig, RUNTIME_NAMESPACE: "flux-system", NO_PROXY: noProxy, no_proxy: noProxy }, o.env ?? {});
    const caBundle = o.caFile ? writeCaBundle(o.workDir, o.caFile) : undefined;

    const logLevel = o.logLevel ?? "info";
    const concurrent = String(o.concurrent ?? 2);
    const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
    let lastError = "";
    for (let attempt = 0; attempt < 3; attempt++) {
        const [scMetrics, scHealth, storage, kcMetrics, kcHealth] = await distinctFreePorts(5);
        const sourceAddr = `127.0.0.1:${storage}`;
        const common = (metrics: number, health: number) => [
            "--watch-all-namespaces=true",
            "--enable-leader-election=false",
            `--metrics-addr=127.0.0.1:${metrics}`,
            `--health-addr=127.0.0.1:${health}`,
            `--log-level=${logLevel}`,
            "--log-encoding=json",
            `--concurrent=${concurrent}`,
        ];
        const sc = launch("source-controller", bins["source-controller"], [
            ...common(scMetrics, scHealth),
            `--storage-path=${storagePath}`,
            `--storage-addr=${sourceAddr}`,
            `--storage-adv-addr=${sourceAddr}`,
        ], { ...base, ...(caBundle ? { SSL_CERT_FILE: caBundle } : {}) }, path.join(o.workDir, "source-controller.log"));
        const kc = launch("kustomize-controller", bins["kustomize-controller"], [
            ...common(kcMetrics, kcHealth),
        ], { ...base, SOURCE_CONTROLLER_LOCALHOST: sourceAddr }, path.join(o.workDir, "kustomize-controller.log"));
        const procs = [sc, kc];

        const checks = [`http://127.0.0.1:${scHealth}/readyz`, `http://127.0.0.1:${kcHealth}/readyz`];
        let ready = false;
        while (Date.now() < deadline && !procs.some((p) => p.hasExited())) {
            const results = await Promise.all([
                ...checks.map((u) => httpStatus(u).then((s) => s === 200, () => false)),
                // The artifact server is a plain file server: any HTTP answer means it listens.
                httpStatus(`http://${sourceAddr}/`).then(() => true, () => false),
            ]);
            if (results.every(Boolean)) {
                ready = true;
                break;
            }
            await new Promise((r) => setTimeout(r, 200));
        }
        if (ready) {
            let stopping: Promise<void> | undefined;
            return {
                sourceAddr,
                storagePath,
                health: { source: `http://127.0.0.1:${scHealth}`, kustomize: `http://127.0.0.1:${kcHealth}` },
                pids: { source: sc.child.pid!, kustomize: kc.child.pid! },
                logs: () => procs.map(prefixed).join("\n"),
                stop: () => (stopping ??= Promise.all(procs.map((p) => stopProc(p))).then(() => undefined)),
            };
        }
        await Promise.all(procs.map((p) => stopProc(p)));
        lastError = procs.map(prefixed).join("\n");
        // A port taken between freePort() and bind(): try again with new ports.
        if (/address already in use/i.test(lastError) && Date.now() < deadline) continue;
        break;
    }
    throw new Error(`Flux controllers did not become ready (kubeconfig ${kubeconfig}):\n${lastError.slice(-6000)}`);
}

const FLUX_CRDS = ["ocirepositories.source.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io"];

export interface StartFluxWhenReadyOptions {
    ws: E2eWorkspace;
    /** kind cluster name the program creates. */
    cluster: string;
    /** Stop waiting when this turns true (the `pulumi up` ended). */
    done: () => boolean;
    /** The controllers' work directory (one per cluster). Defaults to `<workspace>/flux`. */
    workDir?: string;
}

/**
 * Starts the controllers for an end-to-end `pulumi up` as soon as the program's kind (kwok) cluster
 * exists and Flux's CRDs are established — the OCIRepository and Kustomization wait for them.
 * source-controller gets no extra trust: it reaches the test registry's TLS only through the CA
 * Secret the program creates (the OCIRepository's certSecretRef), so a wrong Secret fails the run.
 * Polls every 2 s; resolves with the running controllers, or undefined when `done()` came first.
 */
export async function startFluxWhenReady(o: StartFluxWhenReadyOptions): Promise<FluxControllers | undefined> {
    const { ws } = o;
    let kubeconfig: string | undefined;
    while (!o.done()) {
        try {
            kubeconfig ??= await kubeconfigOnceCreated(ws, o.cluster);
            if (kubeconfig) {
                const r = await ws.kubectl(kubeconfig).run(["get", "crd", ...FLUX_CRDS, "-o", "json"], { quiet: true, timeoutMs: 30_000 });
                const items = r.code === 0 ? (JSON.parse(r.stdout).items as { status?: { conditions?: { type: string; status: string }[] } }[]) : [];
                const established = items.filter((c) => c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True"));
                if (items.length === FLUX_CRDS.length && established.length === items.length) {
                    return await startFluxControllers({
                        kubeconfig,
                        workDir: o.workDir ?? path.join(ws.root, "flux"),
                        binDir: path.dirname(ws.tools.tools["source-controller"]),
                    });
                }
            }
        } catch (e) {
            fs.appendFileSync(path.join(ws.logDir, "flux-watcher.log"), `${new Date().toISOString()} ${(e as Error).message}\n`);
        }
        await new Promise((r) => setTimeout(r, 2000));
    }
    return undefined;
}
