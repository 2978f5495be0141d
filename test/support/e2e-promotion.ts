/**
 * The promoting stack of the end-to-end scenario (issue 16): a second stack of the same project,
 * `prod`, on its own kind (kwok) cluster with its own Flux controllers, and its own registry
 * (htpasswd over TLS, another CA, other credentials). It builds nothing: `artifactSource promote`
 * copies what the scenario's stack published, pinned by digest, and Flux verifies the signature
 * that came along with the source stack's public key.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { fetchManifest } from "../../lib/oci";
import type { ResolvedFluxInstall, ResolvedKyvernoChart } from "../harness/fixtures-resolver";
import { startFluxWhenReady, type FluxControllers } from "../harness/flux-controllers";
import type { Kubectl } from "../harness/kube";
import type { RunResult } from "../harness/processes";
import { startRegistry, type RegistryHandle } from "../harness/registry";
import type { E2eWorkspace, LoggedRunResult, WorkspaceRunOptions } from "../harness/workspace";
import { registryClientOptions } from "./e2e-signing";

export const PROD_STACK = "prod";
/** The program's default kind cluster name for the prod stack. */
export const PROD_CLUSTER = `policy-stack-${PROD_STACK}`;

export interface ProdStackOptions {
    ws: E2eWorkspace;
    fixtures: { flux: ResolvedFluxInstall; kyverno: ResolvedKyvernoChart };
    /** The source stack's registry (its credentials become promoteFrom*). */
    source: RegistryHandle;
    repository: string;
    /** PEM public key of the source stack's signing key: what prod's Flux trusts. */
    sourcePublicKey: string;
    reconcileTimeoutS: number;
}

/** The prod stack, its registry and its Flux controllers. Every pulumi command names the stack: the scenario's own stays selected. */
export class ProdStack {
    registry!: RegistryHandle;
    flux?: FluxControllers;
    kube?: Kubectl;
    private watcher?: Promise<void>;

    constructor(private readonly o: ProdStackOptions) {}

    /** Starts prod's registry (another CA, other credentials than the source's). */
    async start(): Promise<void> {
        this.registry = await startRegistry({ mode: "basic-tls", username: "prod-bot" });
    }

    pulumi(args: string[], opts: WorkspaceRunOptions = {}): Promise<LoggedRunResult> {
        return this.o.ws.pulumi([...args, "--stack", PROD_STACK], opts);
    }

    pulumiOk(args: string[], opts: WorkspaceRunOptions = {}): Promise<LoggedRunResult> {
        return this.o.ws.pulumiOk([...args, "--stack", PROD_STACK], opts);
    }

    /** `pulumi stack init` (without selecting it) and the config of a promoting stack; `promoteFrom` as given. */
    async init(promoteFrom: string): Promise<void> {
        const { ws, fixtures, source } = this.o;
        await ws.pulumiOk(["stack", "init", PROD_STACK, "--no-select"]);
        const set = (key: string, value: string, secret = false) => this.pulumiOk(["config", "set", ...(secret ? ["--secret"] : []), key, value]);
        await set("clusterMode", "kind");
        await set("registryMode", "external");
        await set("registryUrl", this.registry.url(this.o.repository));
        await set("registryUsername", this.registry.username!);
        await set("registryPassword", this.registry.password!, true);
        await set("registryCaFile", this.registry.caFile!);
        await set("registryInsecure", "false");
        await set("artifactSource", "promote");
        await set("promoteFrom", promoteFrom);
        await set("promoteFromUsername", source.username!);
        await set("promoteFromPassword", source.password!, true);
        await set("promoteFromCaFile", source.caFile!);
        await set("promoteFromInsecure", "false");
        await set("pinDigest", "true");
        await set("verification", "cosign");
        await this.pulumiOk(["config", "set", "verificationPublicKeys"], { input: this.o.sourcePublicKey });
        await set("fluxInstallManifest", fixtures.flux.path);
        await set("kyvernoChart", fixtures.kyverno.dir);
        await set("kyvernoChartVersion", fixtures.kyverno.version);
        await set("reconcileTimeout", `${this.o.reconcileTimeoutS}s`);
    }

    /** `pulumi up`, with prod's Flux controllers started as soon as its cluster and Flux's CRDs exist (the first time). */
    async up(timeoutMs: number): Promise<RunResult> {
        let upDone = false;
        if (!this.flux) {
            this.watcher = startFluxWhenReady({ ws: this.o.ws, cluster: PROD_CLUSTER, done: () => upDone, workDir: path.join(this.o.ws.root, "flux-prod") })
                .then((started) => {
                    this.flux = started;
                });
        }
        const r = await this.pulumi(["up", "--yes"], { timeoutMs });
        upDone = true;
        await this.watcher;
        return r;
    }

    /** prod's stack outputs, secrets shown. */
    async outputs(): Promise<Record<string, any>> {
        return JSON.parse((await this.pulumiOk(["stack", "output", "--json", "--show-secrets"])).stdout);
    }

    /** kubectl against prod's cluster, from its kubeconfig output. */
    async kubectl(): Promise<Kubectl> {
        const file = path.join(this.o.ws.root, "kubeconfig-prod-from-stack");
        fs.writeFileSync(file, (await this.outputs()).kubeconfig, { mode: 0o600 });
        this.kube = this.o.ws.kubectl(file);
        return this.kube;
    }

    /** The raw manifest a registry serves for `reference` in the scenario's repository. */
    async manifest(registry: RegistryHandle, reference: string): Promise<Buffer | undefined> {
        return (await fetchManifest({ ...registryClientOptions(registry), url: registry.url(this.o.repository), reference }))?.body;
    }

    /** `pulumi destroy` and `stack rm`, then the controllers. */
    async destroy(timeoutMs: number): Promise<void> {
        await this.pulumiOk(["destroy", "--yes"], { timeoutMs });
        await this.o.ws.pulumiOk(["stack", "rm", "--yes", PROD_STACK]);
        await this.flux?.stop();
    }

    /** For the `after` hook: whatever is still running. */
    async stop(): Promise<void> {
        await this.watcher?.catch(() => undefined);
        await this.flux?.stop();
        await this.registry?.stop();
    }

    logs(): string {
        return `${this.flux?.logs() ?? ""}\n${this.registry?.logs() ?? ""}`;
    }
}
