/**
 * Part 3: no-op `pulumi preview` of the full stack vs the preview of a one-resource program, both
 * on the same file backend, with the real Pulumi engine and providers, against the end-to-end
 * cluster (kwok behind the kind shim, real Flux controllers, real registry with htpasswd/TLS).
 * Reuses the end-to-end harness (test/support/e2e-*.ts); returns a null ratio with the reason when
 * the tool chain is incomplete or any step fails: never an invented number.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { repoRoot } from "../test/support/paths";
import { resolveE2eFixtures } from "../test/support/fixtures-resolver";
import { locateToolChain } from "../test/support/e2e-tools";
import { E2eWorkspace, tail, type RunResult } from "../test/support/e2e-env";
import { deleteAllClusters } from "../test/support/e2e-cluster";
import { startRegistry, type RegistryHandle } from "../test/support/registry";
import type { FluxControllers } from "../test/support/flux-controllers";
import { startFluxWhenReady } from "../test/support/e2e-flux";
import { median, round } from "./support/proc";

const STACK = "bench";
const CLUSTER = `policy-stack-${STACK}`;
const MIN = 60_000;

export interface PreviewBench {
    noop_preview_ratio: number | null;
    /** Why the ratio is null. */
    reason?: string;
    full_preview_ms?: number[];
    one_resource_preview_ms?: number[];
    full_resources?: number;
    up_ms?: number;
    total_ms: number;
}

/** The one-resource program: a ConfigMap on the same cluster, same language host and provider. */
const ONE_RESOURCE_PROGRAM = `import * as k8s from "@pulumi/kubernetes";

export const name = new k8s.core.v1.ConfigMap("bench-one", {
    metadata: { name: "bench-one", namespace: "default" },
    data: { purpose: "no-op preview baseline" },
}).metadata.name;
`;

function ok(r: RunResult, what: string): RunResult {
    if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}, log ${path.basename(r.log)}):\n${tail(r.stdout + "\n" + r.stderr, 3000)}`);
    return r;
}

export async function benchPreview(o: { binDir?: string; rounds: number; log: (s: string) => void }): Promise<PreviewBench> {
    const started = Date.now();
    if (!o.binDir) return { noop_preview_ratio: null, reason: "no tool bin dir (scripts/build-tools.sh did not run or failed)", total_ms: 0 };
    let tools;
    try {
        tools = locateToolChain(o.binDir);
    } catch (e) {
        return {
            noop_preview_ratio: null,
            reason: `end-to-end tool chain incomplete, run scripts/build-tools.sh (all tools) first: ${(e as Error).message.replace(/\s*\n\s*/g, " ").replace(/\/[^\s,]*\/(bin-[0-9a-f]+)/g, "<tools>/$1")}`,
            total_ms: Date.now() - started,
        };
    }
    let fixtures;
    try {
        fixtures = await resolveE2eFixtures();
    } catch (e) {
        return { noop_preview_ratio: null, reason: `end-to-end fixtures unavailable: ${(e as Error).message}`, total_ms: Date.now() - started };
    }
    const ws = new E2eWorkspace(tools);
    let registry: RegistryHandle | undefined;
    let flux: FluxControllers | undefined;
    let upDone = false;
    try {
        registry = await startRegistry({ mode: "basic-tls" });
        const policiesDir = path.join(ws.root, "policies");
        fs.cpSync(path.join(repoRoot, "policies"), policiesDir, { recursive: true });

        o.log("preview: stack init + config");
        ok(await ws.pulumi(["stack", "init", STACK]), "pulumi stack init");
        const set = async (key: string, value: string, secret = false) =>
            ok(await ws.pulumi(["config", "set", ...(secret ? ["--secret"] : []), key, value]), `pulumi config set ${key}`);
        await set("clusterMode", "kind");
        await set("registryMode", "external");
        await set("registryUrl", registry.url("kyverno-policies"));
        await set("registryUsername", registry.username!);
        await set("registryPassword", registry.password!, true);
        await set("registryCaFile", registry.caFile!);
        await set("registryInsecure", "false");
        await set("fluxInstallManifest", fixtures.flux.path);
        await set("kyvernoChart", fixtures.kyverno.dir);
        await set("kyvernoChartVersion", fixtures.kyverno.version);
        await set("policiesPath", policiesDir);
        await set("reconcileTimeout", "180s");

        // Flux's controllers run as local processes once the cluster and Flux's CRDs exist (as in the e2e test).
        const watcher = startFluxWhenReady({ ws, cluster: CLUSTER, done: () => upDone }).then((started) => {
            flux = started;
        });
        o.log("preview: pulumi up of the full stack (kwok cluster, Flux, Kyverno, artifact)…");
        const up = await ws.pulumi(["up", "--yes"], { timeoutMs: 22 * MIN });
        upDone = true;
        await watcher;
        ok(up, "pulumi up of the full stack");

        const kubeconfigFile = path.join(ws.root, "kubeconfig-bench");
        const outputs = JSON.parse(ok(await ws.pulumi(["stack", "output", "--json", "--show-secrets"]), "pulumi stack output").stdout);
        fs.writeFileSync(kubeconfigFile, outputs.kubeconfig, { mode: 0o600 });

        const oneDir = path.join(ws.root, "one-resource");
        fs.mkdirSync(oneDir);
        fs.writeFileSync(path.join(oneDir, "Pulumi.yaml"), "name: bench-one-resource\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n");
        fs.writeFileSync(path.join(oneDir, "package.json"), JSON.stringify({ name: "bench-one-resource", private: true, main: "index.ts" }, null, 2));
        fs.copyFileSync(path.join(repoRoot, "examples", "consumer", "tsconfig.json"), path.join(oneDir, "tsconfig.json"));
        fs.writeFileSync(path.join(oneDir, "index.ts"), ONE_RESOURCE_PROGRAM);
        fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(oneDir, "node_modules"), "dir");
        const oneOpts = { cwd: oneDir, env: { KUBECONFIG: kubeconfigFile } };
        ok(await ws.pulumi(["stack", "init", STACK], oneOpts), "one-resource stack init");
        o.log("preview: pulumi up of the one-resource program");
        ok(await ws.pulumi(["up", "--yes"], { ...oneOpts, timeoutMs: 10 * MIN }), "one-resource pulumi up");

        const state = JSON.parse(ok(await ws.pulumi(["stack", "export"]), "pulumi stack export").stdout);
        const fullResources = (state.deployment?.resources ?? []).length;

        const full: number[] = [];
        const one: number[] = [];
        for (let r = 0; r < o.rounds; r++) {
            // Interleaved, alternating which goes first.
            const order: ("full" | "one")[] = r % 2 === 0 ? ["full", "one"] : ["one", "full"];
            for (const which of order) {
                const res = which === "full" ? await ws.pulumi(["preview", "--expect-no-changes"], { timeoutMs: 10 * MIN }) : await ws.pulumi(["preview", "--expect-no-changes"], { ...oneOpts, timeoutMs: 10 * MIN });
                ok(res, `${which} no-op preview`);
                (which === "full" ? full : one).push(res.ms);
                o.log(`preview: round ${r + 1} ${which} ${res.ms} ms`);
            }
        }
        return {
            noop_preview_ratio: round(median(full) / median(one), 2),
            full_preview_ms: full,
            one_resource_preview_ms: one,
            full_resources: fullResources,
            up_ms: up.ms,
            total_ms: Date.now() - started,
        };
    } catch (e) {
        return { noop_preview_ratio: null, reason: `preview benchmark failed: ${(e as Error).message.split("\n")[0]}`, total_ms: Date.now() - started };
    } finally {
        upDone = true;
        await deleteAllClusters(ws).catch(() => []);
        await flux?.stop();
        await registry?.stop();
        if (process.env.BENCH_KEEP) o.log(`preview: workspace kept at ${ws.root}`);
        else ws.remove();
    }
}
