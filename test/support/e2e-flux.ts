/**
 * Starts the real Flux controllers for an end-to-end `pulumi up` as soon as the program's kind
 * (kwok) cluster exists and Flux's CRDs are established — the OCIRepository and Kustomization wait
 * for them. Shared by the e2e scenario and the no-op preview benchmark. source-controller gets no
 * extra trust: it reaches the test registry's TLS only through the CA Secret the program creates
 * (the OCIRepository's certSecretRef), so a wrong Secret fails the run.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import type { E2eWorkspace } from "./e2e-env";
import { kubeconfigOnceCreated } from "./e2e-cluster";
import { startFluxControllers, type FluxControllers } from "./flux-controllers";

const FLUX_CRDS = ["ocirepositories.source.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io"];

export interface StartFluxWhenReadyOptions {
    ws: E2eWorkspace;
    /** kind cluster name the program creates. */
    cluster: string;
    /** Stop waiting when this turns true (the `pulumi up` ended). */
    done: () => boolean;
}

/** Polls every 2 s; resolves with the running controllers, or undefined when `done()` came first. */
export async function startFluxWhenReady(o: StartFluxWhenReadyOptions): Promise<FluxControllers | undefined> {
    const { ws } = o;
    let kubeconfig: string | undefined;
    while (!o.done()) {
        try {
            kubeconfig ??= await kubeconfigOnceCreated(ws, o.cluster);
            if (kubeconfig) {
                const r = await ws.run(ws.tools.tools.kubectl, ["get", "crd", ...FLUX_CRDS, "-o", "json"], { env: { KUBECONFIG: kubeconfig }, quiet: true, timeoutMs: 30_000 });
                const items = r.code === 0 ? (JSON.parse(r.stdout).items as { status?: { conditions?: { type: string; status: string }[] } }[]) : [];
                const established = items.filter((c) => c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True"));
                if (items.length === FLUX_CRDS.length && established.length === items.length) {
                    return await startFluxControllers({
                        kubeconfig,
                        workDir: path.join(ws.root, "flux"),
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
