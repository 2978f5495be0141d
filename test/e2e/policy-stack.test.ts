/**
 * End to end with the real Pulumi engine (issue 4): `pulumi up / preview / destroy` of this
 * program, unchanged, against a real Kubernetes API server and a real registry with auth.
 *
 * - Tool chain: scripts/build-tools.sh (pulumi + Node.js host, the kubernetes and command
 *   providers, kube-apiserver/controller-manager/scheduler, etcd, kwok, Flux controllers).
 * - Cluster: the program's own Cluster component runs `kind …` through the command provider; the
 *   kind shim on PATH (test/harness/bin/kind) maps those command lines to `kwokctl --runtime
 *   binary`, so the control plane is real and kwok fakes nodes and pods (Deployments become
 *   Available, pods of Jobs complete, so Helm hooks finish).
 * - Flux: the Deployments from install.yaml are kwok pods; the real source-controller and
 *   kustomize-controller run as local processes (test/harness/flux-controllers.ts), started as
 *   soon as `pulumi up` has created the cluster and Flux's CRDs, as they would start in-cluster.
 * - Registry: Debian's docker-registry with htpasswd auth over TLS signed by a test CA
 *   (test/harness/registry.ts); the push trusts it through registryCaFile, source-controller
 *   only through the CA Secret the program makes of it (the OCIRepository's certSecretRef).
 * - Kyverno: the chart's admission and reports controllers run as local processes
 *   (test/support/kyverno-controllers.ts) that start and stop with their Deployments; the API
 *   server calls their webhooks on loopback, so policies really admit, deny and report.
 * - Pulumi: a local file backend, a private PULUMI_HOME, plugins only from PATH, no downloads.
 * - Signing: the stack signs with a key the real cosign made (password-protected); Flux verifies
 *   with its public half (spec.verify), the real `cosign verify` checks the same signature, and
 *   artifacts moved onto the stack's tag behind its back (test/support/e2e-signing.ts) are refused.
 *
 * - Promotion: a second stack, prod (test/support/e2e-promotion.ts), on its own kwok cluster, Flux
 *   controllers and registry (other CA, other credentials), promotes this stack's digest.
 *
 * The steps share one stack and run in order; after the first failure the rest are skipped, and
 * the `after` hook prints every command's log, deletes any cluster left, stops every process.
 */
import { after, before, describe, it, type TestContext } from "node:test";
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

import { resolveE2eFixtures, type ResolvedFluxInstall, type ResolvedKyvernoChart } from "../harness/fixtures-resolver";
import { startFluxWhenReady, type FluxControllers } from "../harness/flux-controllers";
import { deleteAllClusters, kwokClusters, kwokPids, waitFor, type Kubectl } from "../harness/kube";
import { repoRoot, samplePoliciesDir } from "../harness/paths";
import { tail, type RunResult } from "../harness/processes";
import { startRegistry, type RegistryHandle } from "../harness/registry";
import { seedStack } from "../harness/stack";
import { locateToolChain, resolveToolBinDir } from "../harness/tools";
import { E2eWorkspace } from "../harness/workspace";
import {
    createPod, failingResources, policyReportResults, reportCounts, startKyvernoWhenClusterExists, testDeployment, testPod, type ReportResult,
} from "../support/e2e-kyverno";
import type { KyvernoControllers } from "../support/kyverno-controllers";
import {
    copyManifest, cosignKeyPair, cosignVerify, pushBehindTheBack, reconcileNow, registryClientOptions, replaySignature, signWithAnotherKey, sourceState,
    type CosignKeyPair,
} from "../support/e2e-signing";
import { PROD_CLUSTER, ProdStack } from "../support/e2e-promotion";
import { assertNoSecrets } from "../support/secrets-scan";
import { signingKeySecretSpec } from "../support/signing-secrets";
import { loadSigningKey, signatureTag } from "../../lib/signing";
import { RegistryClient } from "../../lib/oci";

const PROJECT = "policy-stack";
const STACK = "e2e";
/** The program's default kind cluster name for this stack (`policy-stack-<stack>`). */
const CLUSTER = `${PROJECT}-${STACK}`;
const REPOSITORY = "kyverno-policies";
const TAG = "1.0.0";
/** The release the edited policies ship as: tags are immutable unless forcePush is set. */
const NEXT_TAG = "1.0.1";
/** The release shipped while the cluster's pull secret is wrong. */
const AUTH_TAG = "1.0.2";
const FLUX_NS = "flux-system";
const SOURCE_NAME = "kyverno-policies";
const RECONCILE_TIMEOUT_S = 180;
/**
 * reconcileTimeout of the ups that are meant to fail (a wrong pull secret, a tampered artifact):
 * Flux reports those failures within a second of the change, so a short wait still quotes them,
 * and seven such ups do not each wait out half a minute.
 */
const FAILING_UP_TIMEOUT_S = 10;
/** Where the admission checks create their Pods (Kyverno's webhooks skip kube-system and kyverno). */
const WORKLOADS_NS = "e2e-workloads";
/** Pods that each break one policy of policies/: a classic ClusterPolicy and a CEL ValidatingPolicy. */
const BAD_PODS: Record<string, string> = { "uses-latest-tag": "disallow-latest-tag", "uses-host-path": "disallow-host-path" };

const MIN = 60_000;

/** Flux's install.yaml and the Kyverno chart (test/harness/fixtures-resolver.ts), resolved first. */
let fixtures: { flux: ResolvedFluxInstall; kyverno: ResolvedKyvernoChart };
let ws: E2eWorkspace;
let registry: RegistryHandle;
let flux: FluxControllers | undefined;
let fluxWatcher: Promise<void> | undefined;
let kyverno: KyvernoControllers | undefined;
let kyvernoWatcher: Promise<void> | undefined;
let policiesDir: string;
let kubeconfigFile: string;
/** kubectl against the stack's cluster (from its kubeconfig output), logged in the workspace. */
let kube: Kubectl;
let broken: string | undefined;
/** The stack's signing key (the real cosign's, password-protected). */
let signingKey: CosignKeyPair;
/** The promoting stack (issue 16), on its own cluster and registry. */
let prod: ProdStack | undefined;
/** prod's state, exported before its destroy: scanned for secrets with the rest. */
let prodExport = "";
const timings: { step: string; ms: number }[] = [];
const suiteStart = Date.now();

/** A scenario step: skipped once an earlier one failed, timed, and marks the scenario broken on failure. */
function step(name: string, timeoutMs: number, fn: (t: TestContext) => Promise<void>): void {
    it(name, { timeout: timeoutMs }, async (t) => {
        if (broken) {
            t.skip(`an earlier step failed: ${broken}`);
            return;
        }
        const started = Date.now();
        try {
            await fn(t);
        } catch (e) {
            broken = name;
            throw e;
        } finally {
            timings.push({ step: name, ms: Date.now() - started });
        }
    });
}

// ---------------------------------------------------------------- helpers

function stackOutputs(r: RunResult): Record<string, any> {
    return JSON.parse(r.stdout);
}

async function outputs(showSecrets = true): Promise<Record<string, any>> {
    return stackOutputs(await ws.pulumiOk(["stack", "output", "--json", ...(showSecrets ? ["--show-secrets"] : [])]));
}

/**
 * The stack's resources by URN with their inputs and outputs, secrets decrypted (ciphertexts are
 * re-encrypted with a fresh nonce at every save, and the order of default providers may change).
 */
async function stateByUrn(): Promise<Record<string, { type: string; inputs: unknown; outputs: unknown }>> {
    const state = JSON.parse((await ws.pulumiOk(["stack", "export", "--show-secrets"])).stdout);
    const out: Record<string, { type: string; inputs: unknown; outputs: unknown }> = {};
    for (const r of state.deployment.resources ?? []) out[r.urn] = { type: r.type, inputs: r.inputs, outputs: r.outputs };
    return out;
}

/** The manifest digest the registry serves for the tag, from the raw bytes (an independent client). */
async function registryDigest(tag: string): Promise<{ digest: string; manifest: any }> {
    const r = await ws.run("skopeo", ["inspect", "--raw", "--cert-dir", registry.certDir!, "--creds", `${registry.username}:${registry.password}`,
        `docker://${registry.host}/${REPOSITORY}:${tag}`], { label: "skopeo-inspect" });
    assert.equal(r.code, 0, `skopeo inspect failed: ${r.stderr}`);
    return { digest: `sha256:${crypto.createHash("sha256").update(r.stdout).digest("hex")}`, manifest: JSON.parse(r.stdout) };
}

interface PreviewStep {
    op: string;
    urn: string;
    diffReasons?: string[];
    detailedDiff?: Record<string, { kind: string; inputDiff?: boolean }> | null;
    oldState?: { type: string; inputs?: Record<string, any>; outputs?: Record<string, any> };
    newState?: { type: string; inputs?: Record<string, any>; outputs?: Record<string, any> };
}

/** `pulumi preview --diff --json`, parsed. */
async function previewJson(): Promise<{ steps: PreviewStep[]; changeSummary: Record<string, number>; raw: string }> {
    const r = await ws.pulumiOk(["preview", "--diff", "--json"]);
    const parsed = JSON.parse(r.stdout);
    return { steps: parsed.steps ?? [], changeSummary: parsed.changeSummary ?? {}, raw: r.stdout };
}

const resourceName = (urn: string) => urn.split("::").pop()!;

/** The Flux status check (a command that waits for a revision): replaced whenever the revision changes. */
const FLUX_STATUS = "policy-source-flux-status";
/** The enforcement status read after it (the `enforcementStatus` output): replaced with it (its trigger is the check's id). */
const ENFORCEMENT_STATUS = "enforcement-status-read";
/** A Deployment that breaks disallow-latest-tag while the stack audits, then is fixed (enforcement readiness). */
const READINESS_DEPLOYMENT = "web";

/**
 * The changed steps of a preview, less the Flux status check's replacement, which is checked
 * here: it may only be replaced because of its revision (its script and triggers).
 */
function revisionChanges(steps: PreviewStep[]): PreviewStep[] {
    const checks = [FLUX_STATUS, ENFORCEMENT_STATUS];
    const status = steps.filter((s) => s.op !== "same" && checks.includes(resourceName(s.urn)));
    for (const s of status) {
        assert.ok(["replace", "create-replacement", "delete-replaced"].includes(s.op), `${FLUX_STATUS}: ${s.op}`);
        for (const reason of [...(s.diffReasons ?? []), ...((s as { replaceReasons?: string[] }).replaceReasons ?? [])]) {
            // The revision reaches the check as a trigger and as a parameter of its script (its environment).
            assert.ok(["create", "triggers", "environment"].includes(reason), `${FLUX_STATUS} changes only with the revision, not ${reason}`);
        }
    }
    return steps.filter((s) => s.op !== "same" && !checks.includes(resourceName(s.urn)));
}

/** Keys of a map whose values differ (added, removed or changed). */
function changedKeys(a: Record<string, unknown> = {}, b: Record<string, unknown> = {}): string[] {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

function condition(obj: any, type: string): { status?: string; message?: string; reason?: string } {
    return (obj?.status?.conditions ?? []).find((c: any) => c.type === type) ?? {};
}

/** Top-level documents of a multi-document YAML file. */
function yamlDocs(file: string): any[] {
    return yaml.loadAll(fs.readFileSync(file, "utf8")).filter((d): d is any => d !== null && typeof d === "object");
}

function policyName(file: string): { kind: string; name: string } {
    const doc = yaml.load(fs.readFileSync(file, "utf8")) as any;
    return { kind: doc.kind, name: doc.metadata.name };
}

// ---------------------------------------------------------------- scenario

describe("policy stack end to end: real Pulumi engine, kwok-backed kind cluster, real registry with auth", () => {
    before(async () => {
        // Before the tool chain (which may build for an hour): a missing fixture fails at once.
        fixtures = await resolveE2eFixtures();
        const tools = locateToolChain(await resolveToolBinDir());
        ws = new E2eWorkspace(tools);
        registry = await startRegistry({ mode: "basic-tls" });
        timings.push({ step: "(before: tool chain, workspace, registry)", ms: Date.now() - suiteStart });
    }, { timeout: 90 * MIN });

    after(async () => {
        const failed = broken !== undefined;
        try {
            if (failed && ws) {
                ws.dumpLogs();
                if (flux) process.stderr.write(`\n----- flux controllers -----\n${tail(flux.logs(), 8000)}\n`);
                if (kyverno) process.stderr.write(`\n----- kyverno controllers -----\n${kyverno.timeline().join("\n")}\n${tail(kyverno.logs(), 8000)}\n`);
                if (registry) process.stderr.write(`\n----- registry -----\n${tail(registry.logs(), 4000)}\n`);
                if (prod) process.stderr.write(`\n----- prod: flux controllers and registry -----\n${tail(prod.logs(), 8000)}\n`);
            }
        } finally {
            // Order: the cluster while the controllers still run (nothing waits on their finalizers
            // once the whole API server goes), then the controllers, then the registry.
            if (ws) {
                const left = await deleteAllClusters(ws).catch(() => []);
                if (left.length > 0) process.stderr.write(`e2e: deleted leftover kwok cluster(s): ${left.join(", ")}\n`);
            }
            await fluxWatcher?.catch(() => undefined);
            await kyvernoWatcher?.catch(() => undefined);
            await kyverno?.stop();
            await flux?.stop();
            await prod?.stop();
            await registry?.stop();
            if (ws) {
                process.stderr.write(`\ne2e timings:\n${timings.map((t) => `  ${(t.ms / 1000).toFixed(1).padStart(7)}s  ${t.step}`).join("\n")}\n` +
                    `  ${((Date.now() - suiteStart) / 1000).toFixed(1).padStart(7)}s  total\ncommands:\n${ws.summary()}\n`);
                if (!failed) ws.remove();
                else process.stderr.write(`e2e workspace kept for inspection: ${ws.root}\n`);
            }
        }
    }, { timeout: 10 * MIN });

    step("a fresh stack is configured: kind cluster, external registry with htpasswd over TLS, local Flux and Kyverno sources", 5 * MIN, async () => {
        signingKey = await cosignKeyPair(ws);
        ({ policiesDir } = await seedStack(ws, {
            stack: STACK, registry, repository: REPOSITORY, fixtures, reconcileTimeoutS: RECONCILE_TIMEOUT_S,
            signing: { key: signingKey.key, password: signingKey.password },
        }));
        const cfg = JSON.parse((await ws.pulumiOk(["config", "--json"])).stdout);
        assert.equal(cfg[`${PROJECT}:registryPassword`].secret, true, "registryPassword is stored as a secret");
        assert.equal(cfg[`${PROJECT}:signingKey`].secret, true, "signingKey is stored as a secret");
        assert.equal(cfg[`${PROJECT}:signingKeyPassword`].secret, true, "signingKeyPassword is stored as a secret");
        assert.equal(cfg[`${PROJECT}:clusterMode`].value, "kind");
    });

    step("pulumi up on the fresh stack succeeds", 25 * MIN, async () => {
        let upDone = false;
        fluxWatcher = startFluxWhenReady({ ws, cluster: CLUSTER, done: () => upDone }).then((started) => {
            flux = started;
            if (started) fs.writeFileSync(path.join(ws.logDir, "flux-controllers-started.txt"), `${new Date().toISOString()} ${started.sourceAddr}\n`);
        });
        kyvernoWatcher = startKyvernoWhenClusterExists({ ws, cluster: CLUSTER, done: () => upDone }).then((started) => { kyverno = started; });
        const r = await ws.pulumi(["up", "--yes"], { timeoutMs: 22 * MIN });
        upDone = true;
        await fluxWatcher;
        await kyvernoWatcher;
        assert.equal(r.code, 0, `pulumi up failed (log ${r.log}):\n${tail(r.stdout + r.stderr, 8000)}`);
        assert.ok(flux, "the Flux controllers were started during pulumi up");
        assert.ok(kyverno, "the Kyverno controllers' watcher was started during pulumi up");
        assert.deepEqual(kyverno.runningControllers(), ["kyverno-admission-controller", "kyverno-reports-controller"], kyverno.timeline().join("\n"));

        // The program's Cluster component ran exactly kind's command lines through the shim.
        const calls = ws.shimCalls();
        assert.deepEqual(calls.map((c) => [c.argv.join(" "), c.exit]), [
            ["get clusters", 0],
            [`create cluster --name ${CLUSTER} --config=- --wait 120s`, 0],
            [`get kubeconfig --name ${CLUSTER}`, 0],
        ]);
        const kubeconfig = (await outputs()).kubeconfig as string;
        kubeconfigFile = path.join(ws.root, "kubeconfig-from-stack");
        fs.writeFileSync(kubeconfigFile, kubeconfig, { mode: 0o600 });
        kube = ws.kubectl(kubeconfigFile);
    });

    step("the API holds Flux's and Kyverno's CRDs (Established) and their Deployments (Available)", 3 * MIN, async () => {
        const expectedFluxCrds = yamlDocs(fixtures.flux.path).filter((d) => d.kind === "CustomResourceDefinition").map((d) => d.metadata.name);
        const crds = (await kube.getJson(["crd"])).items as any[];
        const established = new Set(crds.filter((c) => condition(c, "Established").status === "True").map((c) => c.metadata.name));
        for (const name of expectedFluxCrds) assert.ok(established.has(name), `Flux CRD ${name} is established`);
        for (const name of ["clusterpolicies.kyverno.io", "policies.kyverno.io", "policyexceptions.kyverno.io", "validatingpolicies.policies.kyverno.io"]) {
            assert.ok(established.has(name), `Kyverno CRD ${name} is established`);
        }

        const expectedFluxDeployments = yamlDocs(fixtures.flux.path).filter((d) => d.kind === "Deployment").map((d) => d.metadata.name).sort();
        const fluxDeployments = (await kube.getJson(["deployments", "-n", FLUX_NS])).items as any[];
        assert.deepEqual(fluxDeployments.map((d) => d.metadata.name).sort(), expectedFluxDeployments);
        const kyvernoDeployments = (await kube.getJson(["deployments", "-n", "kyverno"])).items as any[];
        assert.deepEqual(kyvernoDeployments.map((d) => d.metadata.name).sort(), [
            "kyverno-admission-controller", "kyverno-background-controller", "kyverno-cleanup-controller", "kyverno-reports-controller",
        ]);
        for (const d of [...fluxDeployments, ...kyvernoDeployments]) {
            assert.equal(condition(d, "Available").status, "True", `${d.metadata.namespace}/${d.metadata.name} is Available`);
            assert.equal(d.status.readyReplicas, d.spec.replicas, `${d.metadata.name}: all replicas ready`);
        }
        const release = (await kube.getJson(["secrets", "-n", "kyverno", "-l", "owner=helm,name=kyverno"])).items as any[];
        assert.equal(release.length, 1, "one Helm release record for kyverno");
        assert.equal(release[0].metadata.labels.status, "deployed");
    });

    step("the dockerconfigjson secret, the OCIRepository and the Kustomization have the expected specs, and Flux applied the revision", 3 * MIN, async () => {
        const out = await outputs();
        const revision = `${TAG}@${out.artifactDigest}`;
        assert.equal(out.artifactRevision, revision);

        const secret = await kube.getJson(["secret", "-n", FLUX_NS, `${SOURCE_NAME}-registry`]);
        assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
        const docker = JSON.parse(Buffer.from(secret.data[".dockerconfigjson"], "base64").toString());
        assert.deepEqual(Object.keys(docker.auths), [registry.host]);
        const entry = docker.auths[registry.host];
        assert.equal(entry.username, registry.username);
        assert.equal(entry.password, registry.password);
        assert.equal(entry.auth, Buffer.from(`${registry.username}:${registry.password}`).toString("base64"));

        // No Pulumi await on the objects; the Flux status check asked Flux to reconcile this revision.
        const expectedAnnotations = { "pulumi.com/skipAwait": "true", "reconcile.fluxcd.io/requestedAt": revision };
        const pick = (o: Record<string, string>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o?.[k]]));

        const repo = await kube.getJson(["ocirepositories.source.toolkit.fluxcd.io", "-n", FLUX_NS, SOURCE_NAME]);
        assert.deepEqual(pick(repo.metadata.annotations, Object.keys(expectedAnnotations)), expectedAnnotations);
        assert.equal(repo.metadata.annotations["pulumi.com/waitFor"], undefined);
        assert.equal(repo.spec.url, registry.url(REPOSITORY));
        assert.deepEqual(repo.spec.ref, { semver: ">=1.0.0" });
        assert.deepEqual(repo.spec.secretRef, { name: `${SOURCE_NAME}-registry` });
        assert.deepEqual(repo.spec.certSecretRef, { name: `${SOURCE_NAME}-registry-ca` }, "Flux trusts the registry's CA from registryCaFile");
        const ca = await kube.getJson(["secret", "-n", FLUX_NS, `${SOURCE_NAME}-registry-ca`]);
        assert.equal(Buffer.from(ca.data["ca.crt"], "base64").toString("utf8"), fs.readFileSync(registry.caFile!, "utf8"));
        assert.equal(repo.spec.insecure, false);
        assert.equal(repo.spec.interval, "1m");
        assert.equal(repo.spec.timeout, "60s");
        assert.equal(repo.spec.provider, "generic", "the CRD default");
        assert.equal(condition(repo, "Ready").status, "True", `OCIRepository Ready: ${condition(repo, "Ready").message}`);
        assert.equal(repo.status.artifact.revision, revision);

        // Signed at the push, verified by Flux with the key's public half from a Secret of *.pub entries.
        assert.deepEqual(repo.spec.verify, { provider: "cosign", secretRef: { name: `${SOURCE_NAME}-cosign-keys` } });
        assert.equal(condition(repo, "SourceVerified").status, "True", `OCIRepository SourceVerified: ${condition(repo, "SourceVerified").message}`);
        const keys = await kube.getJson(["secret", "-n", FLUX_NS, `${SOURCE_NAME}-cosign-keys`]);
        const entries = Object.entries(keys.data as Record<string, string>);
        assert.equal(entries.length, 1);
        assert.match(entries[0][0], /^cosign-[0-9a-f]{16}\.pub$/);
        assert.equal(Buffer.from(entries[0][1], "base64").toString("utf8").trim(), signingKey.pub.trim(), "the Secret holds cosign.pub");
        assert.equal(out.verification, "cosign");
        assert.equal(out.artifactSignature.tag, `${out.artifactDigest.replace(":", "-")}.sig`);
        assert.match(out.artifactSignature.digest, /^sha256:[0-9a-f]{64}$/);
        assert.match(out.artifactSignature.keyFingerprint, /^sha256:[0-9a-f]{64}$/);
        // The real cosign accepts the signature the program wrote (the README's flags).
        const verified = await cosignVerify(ws, registry, REPOSITORY, TAG, signingKey.pubFile);
        assert.equal(verified.code, 0, `cosign verify accepts the stack's signature: ${verified.output}`);

        const ks = await kube.getJson(["kustomizations.kustomize.toolkit.fluxcd.io", "-n", FLUX_NS, SOURCE_NAME]);
        assert.deepEqual(pick(ks.metadata.annotations, Object.keys(expectedAnnotations)), expectedAnnotations);
        assert.deepEqual(ks.spec.sourceRef, { kind: "OCIRepository", name: SOURCE_NAME });
        assert.equal(ks.spec.path, "./", "the path as the program writes it");
        assert.equal(ks.spec.interval, "1m");
        assert.equal(ks.spec.retryInterval, "30s");
        assert.equal(ks.spec.timeout, `${RECONCILE_TIMEOUT_S}s`);
        assert.equal(ks.spec.prune, true);
        assert.equal(ks.spec.wait, true);
        assert.deepEqual(ks.spec.patches ?? [], [], "audit: no enforcement patches");
        assert.equal(condition(ks, "Ready").status, "True", `Kustomization Ready: ${condition(ks, "Ready").message}`);
        assert.equal(ks.status.lastAppliedRevision, revision);

        // What Flux applied: every policy of the artifact, as written (audit).
        const applied = new Set<string>((ks.status.inventory?.entries ?? []).map((e: any) => e.id as string));
        for (const p of out.policies as { name: string; kind: string }[]) {
            assert.ok([...applied].some((id) => id.startsWith(`_${p.name}_`) && id.endsWith(`_${p.kind}`)), `${p.kind}/${p.name} is in the Kustomization's inventory`);
        }
        const cp = await kube.getJson(["clusterpolicies.kyverno.io", "disallow-latest-tag"]);
        assert.notEqual(cp.spec.validationFailureAction, "Enforce");
    });

    step("Kyverno reports every ClusterPolicy and ValidatingPolicy from policies/ Ready, and its webhooks point at the running admission controller", 4 * MIN, async () => {
        await kyverno!.admissionReady(2 * MIN);
        const out = await outputs();
        const byKind = (kind: string) => (out.policies as { name: string; kind: string }[]).filter((p) => p.kind === kind).map((p) => p.name).sort();
        assert.ok(byKind("ClusterPolicy").length >= 3 && byKind("ValidatingPolicy").length >= 2, JSON.stringify(out.policies));
        // READY as `kubectl get` prints it, from Kyverno's own status (its CRDs' printer columns).
        const tables = async () => ({
            ClusterPolicy: await kube.table(["clusterpolicies.kyverno.io"]),
            ValidatingPolicy: await kube.table(["validatingpolicies.policies.kyverno.io"]),
        });
        const isReady = (kind: "ClusterPolicy" | "ValidatingPolicy", rows: Record<string, string>[]) =>
            byKind(kind).every((n) => rows.find((row) => row.NAME === n)?.READY === (kind === "ClusterPolicy" ? "True" : "true"));
        const ready = await waitFor("every policy Ready", tables,
            (t: Awaited<ReturnType<typeof tables>>) => (isReady("ClusterPolicy", t.ClusterPolicy) && isReady("ValidatingPolicy", t.ValidatingPolicy) ? t : undefined),
            2 * MIN, () => kyverno!.timeline().join("\n"));
        assert.deepEqual(ready.ClusterPolicy.map((r) => r.NAME).sort(), byKind("ClusterPolicy"), "kubectl lists exactly the stack's ClusterPolicies");
        assert.deepEqual(ready.ValidatingPolicy.map((r) => r.NAME).sort(), byKind("ValidatingPolicy"));
        for (const row of ready.ClusterPolicy) assert.equal(row.ADMISSION, "true", `${row.NAME}: admission on`);

        const hooks = (await kube.getJson(["validatingwebhookconfigurations", "-l", "webhook.kyverno.io/managed-by=kyverno"])).items as any[];
        const names = hooks.map((h) => h.metadata.name);
        for (const n of ["kyverno-policy-validating-webhook-cfg", "kyverno-resource-validating-webhook-cfg"]) assert.ok(names.includes(n), `${n} registered (got ${names.join(", ")})`);
        for (const h of hooks) for (const w of h.webhooks) assert.match(w.clientConfig.url, /^https:\/\/127\.0\.0\.1:\d+\//, `${h.metadata.name}/${w.name} calls the local admission controller`);
    });

    step("audit: Pods that break a classic and a CEL policy are admitted and reported as failures in PolicyReports", 5 * MIN, async () => {
        const ns = await kube.run(["create", "namespace", WORKLOADS_NS]);
        assert.equal(ns.code, 0, ns.stderr);
        for (const [pod, policy] of Object.entries(BAD_PODS)) {
            const r = await createPod(kube, testPod(pod, WORKLOADS_NS, pod === "uses-host-path" ? { hostPath: true } : { image: "registry.example/e2e/app:latest" }));
            assert.equal(r.code, 0, `audit admits ${pod} (breaks ${policy}): ${r.output}`);
        }
        const bothFailed = (all: ReportResult[]) => Object.entries(BAD_PODS).every(([pod, policy]) =>
            all.some((x) => x.policy === policy && x.result === "fail" && x.resources.some((res) => res.name === pod)));
        const results = await waitFor("PolicyReports with both failures", () => policyReportResults(kube, WORKLOADS_NS),
            (all: ReportResult[]) => (bothFailed(all) ? all : undefined), 3 * MIN);
        const hostPath = results.find((x) => x.policy === "disallow-host-path" && x.result === "fail")!;
        assert.match(hostPath.message ?? "", /hostPath volumes are not allowed/, "the CEL policy's own message");
        const latest = results.find((x) => x.policy === "disallow-latest-tag" && x.result === "fail")!;
        assert.match(latest.message ?? "", /mutable image tag/, "the classic policy's own message");
    });

    step("the registry holds the artifact with the digest the stack outputs; kubeconfig is a secret output", 2 * MIN, async () => {
        const out = await outputs();
        assert.match(out.artifactDigest, /^sha256:[a-f0-9]{64}$/);
        assert.equal(out.artifactUrl, registry.url(REPOSITORY));
        assert.equal(out.artifactTag, TAG);
        assert.equal(out.clusterName, CLUSTER);
        assert.equal(out.enforcement, "audit");
        assert.deepEqual(out.ociRepository, { name: SOURCE_NAME, namespace: FLUX_NS });
        assert.deepEqual(out.kustomization, { name: SOURCE_NAME, namespace: FLUX_NS });
        assert.equal(out.kyvernoChartVersion, fixtures.kyverno.version);
        assert.equal(out.kyvernoVersion, fixtures.kyverno.appVersion);
        const { digest, manifest } = await registryDigest(TAG);
        assert.equal(digest, out.artifactDigest, "the registry serves the digest the stack outputs");
        assert.equal(manifest.config.mediaType, "application/vnd.cncf.flux.config.v1+json");
        assert.equal(manifest.layers.length, 1);
        assert.equal(manifest.layers[0].mediaType, "application/vnd.cncf.flux.content.v1.tar+gzip");

        const plain = await outputs(false);
        assert.equal(plain.kubeconfig, "[secret]", "kubeconfig is a secret output");
        const kc = yaml.load(out.kubeconfig) as any;
        assert.equal(kc.kind, "Config");
        assert.match(kc.clusters[0].cluster.server, /^https:\/\/127\.0\.0\.1:\d+$/);
        const state = JSON.parse((await ws.pulumiOk(["stack", "export"])).stdout);
        assert.ok(!JSON.stringify(state).includes(registry.password!), "the registry password never appears in the state in clear");
    });

    step("pulumi preview --expect-no-changes passes right after", 8 * MIN, async () => {
        await ws.pulumiOk(["preview", "--expect-no-changes"]);
    });

    step("a second and a third pulumi up change nothing and upload nothing", 10 * MIN, async () => {
        const writesBefore = registry.writes().length;
        const before = await outputs();
        for (let round = 2; round <= 3; round++) {
            const r = await ws.pulumiOk(["up", "--yes", "--expect-no-changes"]);
            assert.doesNotMatch(r.stdout, /\b\d+ (created|updated|deleted|replaced)\b/, `up #${round}: no resource changed`);
        }
        assert.equal(registry.writes().length, writesBefore, "no upload reached the registry");
        assert.equal((await outputs()).artifactDigest, before.artifactDigest);
        assert.equal(ws.shimCalls().filter((c) => c.argv[0] === "create").length, 1, "no second kind create");
    });

    step("two pulumi up at once on one stack: the engine's lock refuses one, and the registry sees no write", 10 * MIN, async () => {
        const writesBefore = registry.writes().length;
        // The second starts once the first holds the lock (it takes it within a second and then runs
        // for ~10 s): started at the very same instant, both can see each other's lock and both
        // back off, which is just as safe but proves less.
        const first = ws.pulumi(["up", "--yes"]);
        await new Promise((r) => setTimeout(r, 2500));
        const results = await Promise.all([first, ws.pulumi(["up", "--yes"])]);
        const refused = results.filter((r) => r.code !== 0);
        assert.equal(refused.length, 1, `exactly one up is refused (exit codes ${results.map((r) => r.code).join(", ")})`);
        assert.match(refused[0].stdout + refused[0].stderr, /currently locked/);
        assert.equal(results.filter((r) => r.code === 0).length, 1, "the other one completes");
        assert.equal(registry.writes().length, writesBefore, "no upload reached the registry");
        await ws.pulumiOk(["preview", "--expect-no-changes"]);
    });


    // ---- promotion (issue 16): prod takes this stack's digest into its own registry and cluster
    step("promotion: a prod stack (own kind cluster, own registry over TLS with other credentials) promoting from a stack that does not exist is refused by preview, naming it; nothing is created", 8 * MIN, async () => {
        prod = new ProdStack({ ws, fixtures, source: registry, repository: REPOSITORY, sourcePublicKey: signingKey.pub, reconcileTimeoutS: RECONCILE_TIMEOUT_S });
        await prod.start();
        await prod.init(`organization/${PROJECT}/does-not-exist`);
        const shimCallsBefore = ws.shimCalls().length;
        const r = await prod.pulumi(["preview"]);
        assert.notEqual(r.code, 0, "the preview fails");
        // The engine's own refusal, on the program's StackReference, before anything else is registered.
        assert.match(r.stdout + r.stderr, /StackReference \(promote-from\):\s+error: Preview failed: unknown stack "organization\/policy-stack\/does-not-exist"/,
            `the message names the source stack:\n${tail(r.stdout + r.stderr, 3000)}`);
        assert.equal(ws.shimCalls().length, shimCallsBefore, "no kind command ran");
        const state = JSON.parse((await prod.pulumiOk(["stack", "export"])).stdout);
        assert.deepEqual(state.deployment.resources ?? [], [], "prod has no resource");
        assert.equal(await prod.manifest(prod.registry, TAG), undefined, "prod's registry holds nothing");
    });

    step("promotion: prod's preview names the promoted digest; up copies the manifest byte for byte with its signature, only reading the source registry; Flux in prod's cluster applies exactly that digest, verified with the source's key", 20 * MIN, async () => {
        await prod!.pulumiOk(["config", "set", "promoteFrom", `organization/${PROJECT}/${STACK}`]);
        const source = await outputs();
        const preview = await prod!.pulumiOk(["preview"]);
        assert.ok(preview.stdout.includes(`promoting ${source.artifactUrl}@${source.artifactDigest} (stack organization/${PROJECT}/${STACK}) to ${prod!.registry.url(REPOSITORY)}:${TAG}`),
            `the preview says what is promoted:\n${tail(preview.stdout, 3000)}`);
        const sourceWrites = registry.writes().length;
        const r = await prod!.up(15 * MIN);
        assert.equal(r.code, 0, `prod's pulumi up failed (log ${r.log}):\n${tail(r.stdout + r.stderr, 8000)}`);
        assert.ok(prod!.flux, "prod's Flux controllers were started during its pulumi up");
        assert.equal(registry.writes().length, sourceWrites, "the source registry was only read");

        const out = await prod!.outputs();
        assert.equal(out.artifactSource, "promote");
        assert.equal(out.artifactDigest, source.artifactDigest, "the same digest as the source stack's");
        const sourceManifest = await prod!.manifest(registry, source.artifactDigest);
        const prodManifest = await prod!.manifest(prod!.registry, TAG);
        assert.ok(sourceManifest && prodManifest && prodManifest.equals(sourceManifest), "prod's registry serves the source manifest byte for byte under prod's tag");
        const sigTag = signatureTag(source.artifactDigest);
        const sourceSignature = await prod!.manifest(registry, sigTag);
        const prodSignature = await prod!.manifest(prod!.registry, sigTag);
        assert.ok(sourceSignature && prodSignature && prodSignature.equals(sourceSignature), "the source's signature came along, unchanged");
        assert.deepEqual(out.promotedFrom, {
            stack: `organization/${PROJECT}/${STACK}`, url: source.artifactUrl, digest: source.artifactDigest,
            copiedSignatureDigest: `sha256:${crypto.createHash("sha256").update(sourceSignature).digest("hex")}`,
        });
        assert.equal(out.pinDigest, true);

        const prodKube = await prod!.kubectl();
        const repo = await prodKube.getJson(["ocirepositories.source.toolkit.fluxcd.io", "-n", FLUX_NS, SOURCE_NAME]);
        assert.deepEqual(repo.spec.ref, { digest: source.artifactDigest }, "prod's Flux is pinned to the digest");
        assert.equal(repo.spec.url, prod!.registry.url(REPOSITORY), "and pulls from prod's registry");
        assert.equal(repo.status.artifact.revision, source.artifactDigest);
        assert.equal(condition(repo, "SourceVerified").status, "True", "prod's Flux verified the copied signature with the source stack's key");
        const ks = await prodKube.getJson(["kustomizations.kustomize.toolkit.fluxcd.io", "-n", FLUX_NS, SOURCE_NAME]);
        assert.equal(ks.status.lastAppliedRevision, source.artifactDigest, "when prod's pulumi up returns, Flux has applied the promoted digest");
        const applied = ((await prodKube.getJson(["clusterpolicies.kyverno.io"])).items as any[]).map((p) => p.metadata.name).sort();
        const expected = (source.policies as { kind: string; name: string }[]).filter((p) => p.kind === "ClusterPolicy").map((p) => p.name).sort();
        assert.deepEqual(applied, expected, "prod's cluster holds the source stack's ClusterPolicies");
        await prod!.pulumiOk(["preview", "--expect-no-changes"]);
    });

    let edited: { changed: string; added: string; removed: string };
    let authFailure = "";
    step("edit one policy, add one, delete one: the preview diff names exactly those three, and nothing else changes but the Flux status check", 8 * MIN, async () => {
        const changedFile = path.join(policiesDir, "disallow-latest-tag.yaml");
        const removedFile = path.join(policiesDir, "restrict-node-port.yaml");
        const addedSource = path.join(samplePoliciesDir, "disallow-host-namespaces.yaml");
        const key = (f: string) => `${policyName(f).kind}/${policyName(f).name}`;
        edited = { changed: key(changedFile), added: key(addedSource), removed: key(removedFile) };
        const text = fs.readFileSync(changedFile, "utf8");
        const newText = text.replace(/(message:\s*["']?)/, "$1[edited by the e2e test] ");
        assert.notEqual(newText, text, "the edit changed the file");
        fs.writeFileSync(changedFile, newText);
        fs.copyFileSync(addedSource, path.join(policiesDir, path.basename(addedSource)));
        fs.rmSync(removedFile);

        const { steps } = await previewJson();
        const changes = revisionChanges(steps);
        const byName = Object.fromEntries(changes.map((s) => [resourceName(s.urn), s]));
        // The Flux objects carry nothing per revision: only the artifact changes (and the status check is replaced).
        assert.deepEqual(Object.keys(byName), ["policies-push"],
            `only the artifact changes, got: ${changes.map((s) => `${s.op} ${resourceName(s.urn)}`).join(", ")}`);
        for (const s of changes) assert.equal(s.op, "update", `${resourceName(s.urn)} is updated in place, not ${s.op}`);

        const push = byName["policies-push"];
        assert.deepEqual(changedKeys(push.oldState?.inputs?.policies, push.newState?.inputs?.policies),
            [edited.added, edited.changed, edited.removed].sort(), "the artifact's policies map differs in exactly the three edited policies");
        const topLevel = changedKeys(push.oldState?.inputs, push.newState?.inputs).filter((k) => !k.startsWith("__"));
        assert.deepEqual(topLevel.filter((k) => !["policies", "digest", "layerDigest", "revision"].includes(k)), [],
            `the artifact's other inputs are unchanged (changed: ${topLevel.join(", ")})`);

    });

    step("pulumi up with the edits under the same tag refuses to move the tag (the program's message) and changes nothing", 8 * MIN, async () => {
        const before = await outputs();
        const stateBefore = await stateByUrn();
        const r = await ws.pulumi(["up", "--yes"], { timeoutMs: 6 * MIN });
        assert.notEqual(r.code, 0, "pulumi up fails");
        assert.match(r.stdout + r.stderr, new RegExp(`tag "${TAG}" in ${registry.url(REPOSITORY).replace(/[.]/g, "\\.")} already points at ${before.artifactDigest}, not at the pushed sha256:[a-f0-9]{64}; bump policy-stack:artifactTag \\(the semver range picks the new tag\\) or set policy-stack:forcePush true`));
        // The program's own keys, never the CLI's flag.
        assert.doesNotMatch(r.stdout + r.stderr, /--force/);
        assert.equal((await registryDigest(TAG)).digest, before.artifactDigest, "the released tag still serves the old digest");
        assert.deepEqual(await stateByUrn(), stateBefore, "no resource's recorded inputs or outputs changed");
    });

    step(`bump artifactTag to ${NEXT_TAG}: pulumi up pushes the new digest and Flux applies it`, 15 * MIN, async () => {
        const before = await outputs();
        await ws.pulumiOk(["config", "set", "artifactTag", NEXT_TAG]);
        const { steps } = await previewJson();
        const changes = revisionChanges(steps);
        assert.deepEqual(changes.map((s) => [s.op, resourceName(s.urn)]), [["update", "policies-push"]]);
        const writesBefore = registry.writes().length;
        await ws.pulumiOk(["up", "--yes"], { timeoutMs: 12 * MIN });
        const out = await outputs();
        assert.equal(out.artifactTag, NEXT_TAG);
        assert.notEqual(out.artifactDigest, before.artifactDigest, "a new digest");
        assert.ok(registry.writes().length > writesBefore, "the new artifact was uploaded");
        assert.equal((await registryDigest(NEXT_TAG)).digest, out.artifactDigest, "the new tag serves the new digest");
        assert.equal((await registryDigest(TAG)).digest, before.artifactDigest, "the previous release is untouched");
        const names = (out.policies as { name: string }[]).map((p) => p.name);
        assert.ok(names.includes(edited.added.split("/").pop()!) && !names.includes(edited.removed.split("/").pop()!));
        const repo = await kube.getJson(["ocirepositories.source.toolkit.fluxcd.io", "-n", FLUX_NS, SOURCE_NAME]);
        assert.equal(repo.status.artifact.revision, `${NEXT_TAG}@${out.artifactDigest}`, "Flux's semver range picked the new release");
        const ks = await kube.getJson(["kustomizations.kustomize.toolkit.fluxcd.io", "-n", FLUX_NS, SOURCE_NAME]);
        assert.equal(ks.status.lastAppliedRevision, `${NEXT_TAG}@${out.artifactDigest}`, "when pulumi up returns, Flux has applied the new revision");
        assert.equal(out.artifactSignature.tag, `${out.artifactDigest.replace(":", "-")}.sig`, "the new release is signed");
        assert.equal(condition(repo, "SourceVerified").status, "True", "and Flux verified it");
        const removed = await kube.run(["get", "clusterpolicies.kyverno.io", edited.removed.split("/").pop()!]);
        assert.notEqual(removed.code, 0, "the deleted policy was pruned from the cluster");
        await kube.getJson(["clusterpolicies.kyverno.io", edited.added.split("/").pop()!]);
        const changed = await kube.getJson(["clusterpolicies.kyverno.io", edited.changed.split("/").pop()!]);
        assert.match(JSON.stringify(changed.spec), /\[edited by the e2e test\]/, "the edited policy is live");
    });

    step(`promotion: the edited policies reach prod only with prod's own up, whose preview names them; a source whose digest its registry no longer serves is refused, naming both`, 20 * MIN, async () => {
        const source = await outputs();
        const before = await prod!.outputs();
        assert.notEqual(source.artifactDigest, before.artifactDigest, "the source stack moved on");
        const prodKube = prod!.kube!;
        const name = (key: string) => key.split("/").pop()!;
        // Until prod's own up, prod runs what it promoted before.
        await prodKube.getJson(["clusterpolicies.kyverno.io", name(edited.removed)]);
        assert.notEqual((await prodKube.run(["get", "clusterpolicies.kyverno.io", name(edited.added)])).code, 0, "the added policy is not in prod yet");
        assert.doesNotMatch(JSON.stringify((await prodKube.getJson(["clusterpolicies.kyverno.io", name(edited.changed)])).spec), /edited by the e2e test/);

        // Stale: the source's registry loses the digest its outputs name (deleted, as a cleanup job would).
        const manifest = await prod!.manifest(registry, source.artifactDigest);
        assert.ok(manifest, "the source registry serves the digest before the delete");
        const deleted = await ws.run("skopeo", ["delete", "--cert-dir", registry.certDir!, "--creds", `${registry.username}:${registry.password}`,
            `docker://${registry.host}/${REPOSITORY}@${source.artifactDigest}`], { label: "skopeo-delete" });
        assert.equal(deleted.code, 0, deleted.stderr);
        try {
            const stale = await prod!.pulumi(["preview"]);
            assert.notEqual(stale.code, 0, "the preview refuses");
            assert.match(stale.stdout + stale.stderr, new RegExp(`policy-stack:promoteFrom = "organization/policy-stack/${STACK}": stack organization/policy-stack/${STACK} outputs artifactDigest ${source.artifactDigest}, which oci://${registry.host}/${REPOSITORY} no longer serves; its tag ${NEXT_TAG} (is gone too|now points at sha256:[0-9a-f]{64})`),
                tail(stale.stdout + stale.stderr, 3000));
        } finally {
            // Put the same bytes back under the tag: the same digest again.
            const client = new RegistryClient(registry.url(REPOSITORY), registryClientOptions(registry));
            try {
                assert.equal(await client.putManifest(NEXT_TAG, manifest, JSON.parse(manifest.toString()).mediaType), source.artifactDigest);
            } finally {
                client.close();
            }
        }

        await prod!.pulumiOk(["config", "set", "artifactTag", NEXT_TAG]);
        const previewRun = await prod!.pulumiOk(["preview", "--diff", "--json"]);
        const steps = (JSON.parse(previewRun.stdout).steps ?? []) as PreviewStep[];
        const push = steps.find((st) => resourceName(st.urn) === "policies-push");
        assert.deepEqual(changedKeys(push?.oldState?.inputs?.policies, push?.newState?.inputs?.policies), [edited.added, edited.changed, edited.removed].sort(),
            "prod's preview names exactly the three edited policies");
        const text = await prod!.pulumiOk(["preview"]);
        for (const key of [edited.added, edited.changed, edited.removed]) assert.ok(text.stdout.includes(name(key)), `the preview's report names ${key}:\n${tail(text.stdout, 3000)}`);

        const r = await prod!.up(12 * MIN);
        assert.equal(r.code, 0, `prod's pulumi up failed (log ${r.log}):\n${tail(r.stdout + r.stderr, 8000)}`);
        const out = await prod!.outputs();
        assert.equal(out.artifactDigest, source.artifactDigest);
        const prodManifest = await prod!.manifest(prod!.registry, NEXT_TAG);
        assert.ok(prodManifest?.equals(manifest), "byte for byte again");
        assert.notEqual((await prodKube.run(["get", "clusterpolicies.kyverno.io", name(edited.removed)])).code, 0, "the deleted policy was pruned in prod");
        await prodKube.getJson(["clusterpolicies.kyverno.io", name(edited.added)]);
        assert.match(JSON.stringify((await prodKube.getJson(["clusterpolicies.kyverno.io", name(edited.changed)])).spec), /\[edited by the e2e test\]/, "the edit is live in prod");
        const repo = await prodKube.getJson(["ocirepositories.source.toolkit.fluxcd.io", "-n", FLUX_NS, SOURCE_NAME]);
        assert.equal(repo.status.artifact.revision, source.artifactDigest);
    });

    step("promotion: prod's destroy deletes its cluster and leaves both registries' releases in place", 15 * MIN, async () => {
        const digest = (await prod!.outputs()).artifactDigest;
        prodExport = (await prod!.pulumiOk(["stack", "export"])).stdout;
        await prod!.destroy(12 * MIN);
        // `pulumi stack rm` leaves no stack selected, even when it removes another one.
        await ws.pulumiOk(["stack", "select", STACK]);
        assert.ok(!(await kwokClusters(ws)).includes(PROD_CLUSTER), "prod's kwok cluster is gone");
        assert.ok(await prod!.manifest(prod!.registry, digest), "prod's registry keeps the promoted release");
        assert.ok(await prod!.manifest(registry, digest), "the source release is untouched");
    });

    // ---- enforcement readiness (issue 14): what a switch to enforce would block, and the block gate
    step("readiness: a Deployment that breaks one policy, created while the stack audits, is named by the preview of the switch to enforce", 8 * MIN, async () => {
        const created = await kube.run(["create", "-f", "-"], { input: testDeployment(READINESS_DEPLOYMENT, WORKLOADS_NS, "registry.example/e2e/app:latest") });
        assert.equal(created.code, 0, `audit admits the Deployment: ${created.stdout}${created.stderr}`);
        const deployment = `disallow-latest-tag: Deployment ${WORKLOADS_NS}/${READINESS_DEPLOYMENT}`;
        await waitFor("the Deployment reported failing disallow-latest-tag", () => failingResources(kube, ["disallow-latest-tag"]),
            (all: string[]) => (all.includes(deployment) ? all : undefined), 3 * MIN);
        await ws.pulumiOk(["config", "set", "enforcement", "enforce"]);
        const preview = await ws.pulumiOk(["preview"]);
        const text = preview.stdout + preview.stderr;
        assert.match(text, /disallow-latest-tag: audit → enforce/, "the preview names the flip");
        assert.match(text, /disallow-host-path: audit → enforce/);
        assert.match(text, /enforcement readiness: \d+ existing resources? fails? (a|\d+) polic(y|ies) about to enforce/);
        assert.match(text, new RegExp(`disallow-latest-tag: \\d+ existing resources? fails? it: Deployment ${WORKLOADS_NS}/${READINESS_DEPLOYMENT}\\b`), text);
    });

    step("readiness: with enforcementGate block, preview and up (with and without its preview) refuse the switch, naming the Deployment, and change nothing", 12 * MIN, async () => {
        await ws.pulumiOk(["config", "set", "enforcementGate", "block"]);
        const stateBefore = await stateByUrn();
        const refusal = /enforcementGate is block: enforcing would block \d+ existing resources? at/;
        const named = new RegExp(`Deployment ${WORKLOADS_NS}/${READINESS_DEPLOYMENT}\\b`);
        const writesBefore = registry.writes().length;
        const refused = async (args: string[]) => {
            const r = await ws.pulumi(args, { timeoutMs: 8 * MIN });
            const text = r.stdout + r.stderr;
            assert.notEqual(r.code, 0, `pulumi ${args.join(" ")} fails`);
            assert.match(text, refusal, `pulumi ${args.join(" ")}: ${tail(text, 3000)}`);
            assert.match(text, named);
        };
        // The preview fails, so up stops before its update.
        await refused(["preview"]);
        await refused(["up", "--yes"]);
        assert.deepEqual(await stateByUrn(), stateBefore, "no resource's recorded inputs or outputs changed");
        // Without the preview the update's own gate holds the Kustomization back. The update still
        // records the stack's config on the dynamic artifact resource (as every update does): that
        // snapshot is left out of the comparison.
        await refused(["up", "--yes", "--skip-preview"]);
        const withoutConfig = (state: unknown) => JSON.parse(JSON.stringify(state, (_k, v) =>
            (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).some((k) => k.startsWith(`${PROJECT}:`)) ? undefined : v)));
        assert.deepEqual(withoutConfig(await stateByUrn()), withoutConfig(stateBefore), "no resource changed");
        assert.equal(registry.writes().length, writesBefore, "nothing was pushed");
        const ks = await kube.getJson(["kustomizations.kustomize.toolkit.fluxcd.io", "-n", FLUX_NS, SOURCE_NAME]);
        assert.deepEqual(ks.spec.patches ?? [], [], "the cluster still audits");
    });

    step("readiness: once the Deployment is fixed (and the audit step's Pods are gone) the block gate lets the switch through", 8 * MIN, async () => {
        const fixed = await kube.run(["set", "image", `deployment/${READINESS_DEPLOYMENT}`, "-n", WORKLOADS_NS, "app=registry.example/e2e/app:1.2.3"]);
        assert.equal(fixed.code, 0, fixed.stderr);
        for (const pod of Object.keys(BAD_PODS)) {
            const r = await kube.run(["delete", "pod", "-n", WORKLOADS_NS, pod, "--ignore-not-found", "--wait=true", "--timeout=60s"]);
            assert.equal(r.code, 0, r.stderr);
        }
        const policies = ((await outputs()).policies as { name: string }[]).map((p) => p.name);
        await waitFor("no existing resource failing a policy", () => failingResources(kube, policies), (all: string[]) => (all.length === 0 ? all : undefined), 4 * MIN);
        const preview = await ws.pulumiOk(["preview"]);
        assert.match(preview.stdout + preview.stderr, /Kyverno's reports show no existing resource failing/);
        // The next step switches to enforce with the gate still on block.
    });

    step("enforcement: enforce changes only the Kustomization's patches, and up makes every validate rule enforce", 15 * MIN, async () => {
        await ws.pulumiOk(["config", "set", "enforcement", "enforce"]);
        const { steps } = await previewJson();
        const changes = revisionChanges(steps);
        assert.deepEqual(changes.map((s) => [s.op, resourceName(s.urn)]), [["update", "policy-source-apply"]],
            `only the Kustomization changes, got: ${changes.map((s) => `${s.op} ${resourceName(s.urn)}`).join(", ")}`);
        const paths = Object.keys(changes[0].detailedDiff ?? {});
        assert.ok(paths.length > 0);
        for (const p of paths) assert.match(p, /^spec\.patches/, `only spec.patches changes, not ${p}`);

        const writesBefore = registry.writes().length;
        await ws.pulumiOk(["up", "--yes"], { timeoutMs: 12 * MIN });
        assert.equal(registry.writes().length, writesBefore, "the artifact is environment-neutral: nothing is pushed");
        const cp = await kube.getJson(["clusterpolicies.kyverno.io", "disallow-latest-tag"]);
        assert.equal(cp.spec.validationFailureAction, "Enforce");
        for (const rule of cp.spec.rules.filter((r: any) => r.validate)) assert.equal(rule.validate.failureAction, "Enforce", `rule ${rule.name}`);
        const vpol = await kube.getJson(["validatingpolicies.policies.kyverno.io", "disallow-host-path"]);
        assert.deepEqual(vpol.spec.validationActions, ["Deny"]);
        assert.equal((await outputs()).enforcement, "enforce");
    });

    step("enforce: Kyverno denies the same Pods with each policy's own message (classic and CEL) and admits a compliant one", 5 * MIN, async () => {
        const latest = await createPod(kube, testPod("uses-latest-tag", WORKLOADS_NS, { image: "registry.example/e2e/app:latest" }));
        assert.notEqual(latest.code, 0, `enforce denies uses-latest-tag: ${latest.output}`);
        assert.match(latest.output, /admission webhook "[^"]*kyverno[^"]*" denied the request/);
        assert.match(latest.output, /disallow-latest-tag/);
        // kubectl prints the rule's message YAML-quoted: 'latest' appears as ''latest''.
        assert.match(latest.output, /Using a mutable image tag e\.g\. '+latest'+ is not allowed\./);

        const hostPath = await createPod(kube, testPod("uses-host-path", WORKLOADS_NS, { hostPath: true }));
        assert.notEqual(hostPath.code, 0, `enforce denies uses-host-path: ${hostPath.output}`);
        // Kyverno's webhook, or the ValidatingAdmissionPolicy Kyverno may generate from the policy: either way denied.
        assert.match(hostPath.output, /denied (the )?request/);
        assert.match(hostPath.output, /hostPath volumes are not allowed: mount a PersistentVolumeClaim, a ConfigMap or an emptyDir instead\./);

        const compliant = await createPod(kube, testPod("compliant", WORKLOADS_NS));
        assert.equal(compliant.code, 0, `enforce admits a compliant Pod: ${compliant.output}`);
    });

    step("back to audit: up removes the patches and the same Pods are admitted again", 10 * MIN, async () => {
        await ws.pulumiOk(["config", "set", "enforcement", "audit"]);
        const writesBefore = registry.writes().length;
        await ws.pulumiOk(["up", "--yes"], { timeoutMs: 8 * MIN });
        assert.equal(registry.writes().length, writesBefore, "nothing is pushed");
        const ks = await kube.getJson(["kustomizations.kustomize.toolkit.fluxcd.io", "-n", FLUX_NS, SOURCE_NAME]);
        assert.deepEqual(ks.spec.patches ?? [], []);
        for (const pod of Object.keys(BAD_PODS)) {
            const r = await createPod(kube, testPod(pod, WORKLOADS_NS, pod === "uses-host-path" ? { hostPath: true } : { image: "registry.example/e2e/app:latest" }));
            assert.equal(r.code, 0, `audit admits ${pod} again: ${r.output}`);
        }
        assert.equal((await outputs()).enforcement, "audit");
        await ws.pulumiOk(["preview", "--expect-no-changes"]);
    });

    step("per-policy rollout: a map enforcing disallow-latest-tag only; the preview names that flip, Kyverno denies one Pod and admits the other, the outputs match the PolicyReports", 15 * MIN, async () => {
        await ws.pulumiOk(["config", "rm", "enforcementGate"]);
        await ws.pulumiOk(["config", "rm", "enforcement"]);
        await ws.pulumiOk(["config", "set", "--path", "enforcement.default", "audit"]);
        await ws.pulumiOk(["config", "set", "--path", "enforcement.enforce[0]", "disallow-latest-tag"]);
        const preview = await ws.pulumiOk(["preview"]);
        const text = preview.stdout + preview.stderr;
        assert.match(text, /enforcement: 1 policy changes action in the cluster:\s*disallow-latest-tag: audit → enforce/, text);
        await ws.pulumiOk(["up", "--yes"], { timeoutMs: 8 * MIN });
        const out = await outputs();
        assert.deepEqual(out.enforcement, { default: "audit", enforce: ["disallow-latest-tag"], audit: [] });
        assert.equal((await kube.getJson(["clusterpolicies.kyverno.io", "disallow-latest-tag"])).spec.validationFailureAction, "Enforce");
        assert.deepEqual((await kube.getJson(["validatingpolicies.policies.kyverno.io", "disallow-host-path"])).spec.validationActions, ["Audit"]);

        // What the stack reports, read after Flux applied the map, against the reports as kubectl shows them.
        const status = Object.fromEntries((out.enforcementStatus.policies as any[]).map((p) => [p.name, p]));
        assert.deepEqual(out.enforcementStatus.unread, []);
        assert.equal(status["disallow-latest-tag"].action, "Enforce");
        assert.equal(status["disallow-host-path"].action, "Audit");
        assert.equal(status["add-default-seccomp"].action, "None");
        const expected = (counts: Record<string, Record<string, number>>) => Object.fromEntries(Object.keys(status).map((n) => [n, { pass: counts[n]?.pass ?? 0, fail: counts[n]?.fail ?? 0 }]));
        const reported = Object.fromEntries(Object.values(status).map((p: any) => [p.name, { pass: p.pass, fail: p.fail }]));
        assert.ok(reported["disallow-host-path"].fail >= 1, `the audit Pod breaking disallow-host-path is counted: ${JSON.stringify(reported)}`);
        // Reports are written asynchronously: kubectl must show the same counts (within a minute of the read).
        await waitFor("kubectl's PolicyReport counts equal the enforcementStatus output", () => reportCounts(kube),
            (counts: Record<string, Record<string, number>>) => (JSON.stringify(expected(counts)) === JSON.stringify(reported) ? counts : undefined),
            1 * MIN, () => `output: ${JSON.stringify(reported)}`);

        const latest = await createPod(kube, testPod("uses-latest-tag", WORKLOADS_NS, { image: "registry.example/e2e/app:latest" }));
        assert.notEqual(latest.code, 0, `the map enforces disallow-latest-tag: ${latest.output}`);
        assert.match(latest.output, /denied the request[\s\S]*disallow-latest-tag/);
        const hostPath = await createPod(kube, testPod("uses-host-path", WORKLOADS_NS, { hostPath: true }));
        assert.equal(hostPath.code, 0, `the map leaves disallow-host-path auditing: ${hostPath.output}`);

        await ws.pulumiOk(["config", "rm", "enforcement"]);
        await ws.pulumiOk(["config", "set", "enforcement", "audit"]);
        await ws.pulumiOk(["up", "--yes"], { timeoutMs: 8 * MIN });
        await ws.pulumiOk(["preview", "--expect-no-changes"]);
    });

    step("examples/consumer previews and reads the outputs through a StackReference on the same backend", 10 * MIN, async () => {
        const consumerDir = path.join(ws.root, "consumer");
        for (const f of ["Pulumi.yaml", "package.json", "tsconfig.json", "index.ts"]) {
            fs.mkdirSync(consumerDir, { recursive: true });
            fs.copyFileSync(path.join(repoRoot, "examples", "consumer", f), path.join(consumerDir, f));
        }
        fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(consumerDir, "node_modules"), "dir");
        const opts = { cwd: consumerDir };
        await ws.pulumiOk(["stack", "init", STACK], opts);
        await ws.pulumiOk(["config", "set", "policyStack", `organization/${PROJECT}/${STACK}`], opts);
        const preview = await ws.pulumiOk(["preview", "--json"], opts);
        const steps = (JSON.parse(preview.stdout).steps ?? []) as PreviewStep[];
        assert.deepEqual(steps.filter((s) => s.op !== "read").map((s) => [s.op, s.newState?.type]), [["create", "pulumi:pulumi:Stack"]],
            "the consumer creates only its stack resource (the StackReference is a read)");
        await ws.pulumiOk(["up", "--yes"], opts);
        const consumer = stackOutputs(await ws.pulumiOk(["stack", "output", "--json", "--show-secrets"], opts));
        const producer = await outputs();
        for (const k of ["artifactUrl", "artifactTag", "artifactDigest", "artifactRevision", "enforcement", "kustomization", "kubeconfig", "enforcementStatus"]) {
            assert.deepEqual(consumer[k], producer[k], `consumer.${k}`);
        }
        assert.equal(consumer.pinnedArtifact, `${producer.artifactUrl}@${producer.artifactDigest}`);
        assert.equal(consumer.policyCount, producer.policies.length);
        assert.deepEqual(consumer.enforcedPolicies, (producer.enforcementStatus.policies as any[]).filter((p) => p.action === "Enforce").map((p) => p.name));
        assert.deepEqual(consumer.failingPolicies, (producer.enforcementStatus.policies as any[]).filter((p) => p.fail > 0).map((p) => p.name));
        const plain = stackOutputs(await ws.pulumiOk(["stack", "output", "--json"], opts));
        assert.equal(plain.kubeconfig, "[secret]", "the kubeconfig stays secret through the reference");
        await ws.pulumiOk(["destroy", "--yes"], opts);
        await ws.pulumiOk(["stack", "rm", "--yes", STACK], opts);
    });

    step(`a wrong password in the cluster's pull secret: pulumi up of ${AUTH_TAG} fails after reconcileTimeout quoting Flux's authentication message; five fail-then-retry rounds each end with no changes`, 25 * MIN, async () => {
        const secretName = `${SOURCE_NAME}-registry`;
        const saved = await kube.getJson(["secret", "-n", FLUX_NS, secretName]);
        const host = new URL(registry.baseUrl).host;
        const wrong = JSON.stringify({ auths: { [host]: { username: registry.username, password: "not-the-password", auth: Buffer.from(`${registry.username}:not-the-password`).toString("base64") } } });
        const breakSecret = () => kube.run(["patch", "secret", "-n", FLUX_NS, secretName, "--type", "merge", "-p", JSON.stringify({ data: { ".dockerconfigjson": Buffer.from(wrong).toString("base64") } })]);
        // Put the right secret back, as Pulumi wrote it.
        const restoreSecret = () => kube.run(["patch", "secret", "-n", FLUX_NS, secretName, "--type", "merge", "-p", JSON.stringify({ data: saved.data })]);
        // Each round ships a new release while the pull secret is wrong, then retries with it right.
        const tags = [AUTH_TAG, "1.0.3", "1.0.4", "1.0.5", "1.0.6"];
        for (const [round, tag] of tags.entries()) {
            await ws.pulumiOk(["config", "set", "reconcileTimeout", `${FAILING_UP_TIMEOUT_S}s`]);
            await breakSecret();
            await ws.pulumiOk(["config", "set", "artifactTag", tag]);
            const r = await ws.pulumi(["up", "--yes"], { timeoutMs: 6 * MIN });
            const text = r.stdout + r.stderr;
            if (round === 0) authFailure = text;
            assert.equal(r.timedOut, false, `round ${round + 1}: pulumi up returned on its own (it was not killed at the harness timeout)`);
            assert.notEqual(r.code, 0, `round ${round + 1}: pulumi up fails`);
            assert.match(text, new RegExp(`Flux did not apply ${tag.replace(/[.]/g, "\\.")}@sha256:[0-9a-f]{64} within ${FAILING_UP_TIMEOUT_S}s`));
            assert.match(text, /ocirepositories\/flux-system\/kyverno-policies: Ready=False \(\w+\): .*(UNAUTHORIZED|authentication required)/);
            // The real pulumi-command's error format: the command, then what it printed.
            assert.match(text, /exit status 1: running "[^\n]*":\n\s*Flux did not apply /);
            await restoreSecret();
            // The retry must succeed: Flux gets its usual time (it may be backing off after the failures).
            await ws.pulumiOk(["config", "set", "reconcileTimeout", `${RECONCILE_TIMEOUT_S}s`]);
            await ws.pulumiOk(["up", "--yes"], { timeoutMs: 8 * MIN });
            await ws.pulumiOk(["preview", "--expect-no-changes"]);
            const repo = await kube.getJson(["ocirepositories.source.toolkit.fluxcd.io", "-n", FLUX_NS, SOURCE_NAME]);
            assert.equal(repo.status.artifact.revision, (await outputs()).artifactRevision, `round ${round + 1}: Flux serves the new tag once the secret is right`);
        }
        await ws.pulumiOk(["up", "--yes"], { timeoutMs: 8 * MIN });
        await ws.pulumiOk(["preview", "--expect-no-changes"]);
    });

    let tamperFailures = "";
    step("tampering: an unsigned artifact, then one signed with another key, moved onto the stack's tag behind its back: Flux refuses each, pulumi up fails quoting Flux, the cluster keeps the verified policies", 20 * MIN, async () => {
        const out = await outputs();
        const tag = out.artifactTag as string;
        const verifiedRevision = `${tag}@${out.artifactDigest}`;
        // The tampered artifact lacks one policy: had Flux applied it, pruning would delete that ClusterPolicy.
        const dropped = "disallow-latest-tag";
        const tamperedDir = path.join(ws.root, "tampered-policies");
        fs.cpSync(policiesDir, tamperedDir, { recursive: true });
        fs.rmSync(path.join(tamperedDir, `${dropped}.yaml`));
        const keepsVerified = async (what: string) => {
            const ks = await kube.getJson(["kustomizations.kustomize.toolkit.fluxcd.io", "-n", FLUX_NS, SOURCE_NAME]);
            assert.equal(ks.status.lastAppliedRevision, verifiedRevision, `${what}: the Kustomization keeps the last verified revision`);
            await kube.getJson(["clusterpolicies.kyverno.io", dropped]);
        };
        // A shorter wait: a change of reconcileTimeout is also what makes up run the Flux status check again.
        await ws.pulumiOk(["config", "set", "reconcileTimeout", `${FAILING_UP_TIMEOUT_S}s`]);

        const tampered = await pushBehindTheBack(registry, REPOSITORY, tag, tamperedDir, "2030-01-01T00:00:00Z");
        const unsigned = await reconcileNow(kube, FLUX_NS, SOURCE_NAME);
        assert.equal(unsigned.verified.status, "False", `Flux refuses an unsigned artifact: ${JSON.stringify(unsigned)}`);
        assert.match(unsigned.verified.message ?? "", /failed to verify the signature using provider 'cosign'/, JSON.stringify(unsigned));
        assert.equal(unsigned.revision, verifiedRevision, "source-controller still serves the verified artifact");
        await keepsVerified("unsigned");
        const upUnsigned = await ws.pulumi(["up", "--yes"], { timeoutMs: 6 * MIN });
        tamperFailures += upUnsigned.stdout + upUnsigned.stderr;
        assert.notEqual(upUnsigned.code, 0, "pulumi up fails while Flux refuses the tag's artifact");
        assert.ok((upUnsigned.stdout + upUnsigned.stderr).includes(`SourceVerified=False (${unsigned.verified.reason}): failed to verify the signature`),
            `pulumi up quotes Flux's SourceVerified condition:\n${tail(upUnsigned.stdout + upUnsigned.stderr, 4000)}`);
        await keepsVerified("unsigned, after pulumi up");

        await signWithAnotherKey(registry, REPOSITORY, tampered);
        const otherKey = await reconcileNow(kube, FLUX_NS, SOURCE_NAME);
        assert.equal(otherKey.verified.status, "False", `Flux refuses another key's signature: ${JSON.stringify(otherKey)}`);
        const upOtherKey = await ws.pulumi(["up", "--yes"], { timeoutMs: 6 * MIN });
        tamperFailures += upOtherKey.stdout + upOtherKey.stderr;
        assert.notEqual(upOtherKey.code, 0, "pulumi up fails again");
        assert.match(otherKey.verified.message ?? "", /failed to verify the signature using provider 'cosign'/, JSON.stringify(otherKey));
        assert.ok((upOtherKey.stdout + upOtherKey.stderr).includes(`SourceVerified=False (${otherKey.verified.reason}): ${otherKey.verified.message}`),
            `pulumi up quotes Flux's message word for word:\n${tail(upOtherKey.stdout + upOtherKey.stderr, 4000)}`);
        fs.writeFileSync(path.join(ws.logDir, "flux-refusals.txt"), `unsigned: ${JSON.stringify(unsigned.verified)}\nother key: ${JSON.stringify(otherKey.verified)}\n`);
        await keepsVerified("other key");
        // The real cosign agrees: neither the tag's artifact now nor its signature is trusted.
        assert.notEqual((await cosignVerify(ws, registry, REPOSITORY, tag, signingKey.pubFile)).code, 0, "cosign verify refuses the tampered tag");

        // A replay: the stack's own signature of the verified digest copied beside other content.
        // cosign refuses it (the signed payload names another digest). source-controller v1.9.4 was
        // seen to accept it (README "Signing", the caveat); only recorded here, so that a release that
        // starts refusing it changes the record, not the verdict. The content is the stack's own
        // policies, so accepting it changes nothing in the cluster.
        const sameContent = await pushBehindTheBack(registry, REPOSITORY, tag, policiesDir, "2031-01-01T00:00:00Z");
        await replaySignature(registry, REPOSITORY, out.artifactDigest, sameContent);
        const replay = await reconcileNow(kube, FLUX_NS, SOURCE_NAME).catch((e: Error) => ({ error: e.message }));
        const replayCosign = await cosignVerify(ws, registry, REPOSITORY, tag, signingKey.pubFile);
        const replayNote = `replayed signature: source-controller ${JSON.stringify(replay)}; cosign verify exit ${replayCosign.code}\n`;
        fs.writeFileSync(path.join(ws.logDir, "replay-observation.txt"), replayNote);
        process.stderr.write(`e2e: ${replayNote}`);
        assert.notEqual(replayCosign.code, 0, "cosign verify refuses a replayed signature");

        // Moving the tag back to the verified manifest heals it: its signature is still there.
        await copyManifest(registry, REPOSITORY, out.artifactDigest, tag);
        await reconcileNow(kube, FLUX_NS, SOURCE_NAME);
        // The healing up must succeed: Flux gets its usual time again.
        await ws.pulumiOk(["config", "set", "reconcileTimeout", `${RECONCILE_TIMEOUT_S}s`]);
        const healing = await ws.pulumiOk(["up", "--yes"], { timeoutMs: 6 * MIN });
        tamperFailures += healing.stdout + healing.stderr;
        const healed = await sourceState(kube, FLUX_NS, SOURCE_NAME);
        assert.equal(healed.verified.status, "True", JSON.stringify(healed));
        assert.equal(healed.revision, verifiedRevision);
        await keepsVerified("healed");
        await ws.pulumiOk(["up", "--yes"], { timeoutMs: 8 * MIN });
        await ws.pulumiOk(["preview", "--expect-no-changes"]);
        // Last, so that a miss here costs no later step: the preview inside each failed up said it too, from the registry.
        assert.match(upUnsigned.stdout + upUnsigned.stderr, /signature: \S+:\d\.\d\.\d is NOT signed by a trusted key, so Flux refuses it/, "the preview says the published artifact is not signed");
    });

    step("no secret in plain text: state export, the engine's JSON events, every pulumi command's output, the errors provoked", 8 * MIN, async () => {
        const exported = (await ws.pulumiOk(["stack", "export"])).stdout;
        // The engine's structured preview (steps with old and new inputs and outputs, diagnostics).
        const events = (await ws.pulumiOk(["preview", "--diff", "--json"])).stdout;
        const preview = await ws.pulumiOk(["preview", "--diff"]);
        const secretJson = Buffer.from((await kube.getJson(["secret", "-n", FLUX_NS, `${SOURCE_NAME}-registry`])).data[".dockerconfigjson"], "base64").toString("utf8");
        // Every pulumi command this run made, as the product printed it. Left out: the test's own
        // inputs and reads (config set typing the password, --show-secrets exports and outputs it
        // asked for, kubectl reading the Secret, skopeo given --creds), which hold secrets by design.
        const pulumiLogs = fs.readdirSync(ws.logDir).map((f) => path.join(ws.logDir, f)).filter((f) => {
            const command = fs.readFileSync(f, "utf8").split("\n", 1)[0];
            return /^\$ \S*pulumi /.test(command) && !/--show-secrets| config set /.test(command);
        });
        assert.ok(pulumiLogs.length >= 15, `scanned ${pulumiLogs.length} pulumi logs`);
        // The kind command's stdout is the kubeconfig: its credentials must not be logged either.
        const kubeconfigCredentials = [...fs.readFileSync(kubeconfigFile, "utf8").matchAll(/^\s*(?:client-key-data|token):\s*(\S+)\s*$/gm)].map((m) => m[1]);
        assertNoSecrets(
            { texts: { "pulumi stack export": exported, "pulumi preview --diff --json": events, "pulumi preview --diff": preview.stdout + preview.stderr, "wrong-password up": authFailure }, paths: pulumiLogs },
            { username: registry.username, password: registry.password!, dockerConfigJson: [secretJson], extra: kubeconfigCredentials },
        );
        assert.ok(exported.includes('"ciphertext"'), "the export holds the secrets encrypted");
        // prod: its own registry password, and the source registry's (promoteFromPassword) it copied with.
        assert.ok(prodExport.includes('"ciphertext"'), "prod's export holds its secrets encrypted");
        for (const r of [prod!.registry, registry]) {
            assertNoSecrets({ texts: { "prod's pulumi stack export": prodExport }, paths: pulumiLogs }, { username: r.username, password: r.password! });
        }
        // The signing key and its password, in every form lib/signing's own scan knows.
        assertNoSecrets(
            { texts: { "pulumi stack export": exported, "pulumi preview --diff --json": events, "pulumi preview --diff": preview.stdout + preview.stderr, "wrong-password up": authFailure, "tampered ups": tamperFailures }, paths: pulumiLogs },
            signingKeySecretSpec(signingKey.key, signingKey.password, (await loadSigningKey(signingKey.key, signingKey.password)).privateKey),
        );
    });

    step("a tag outside the semver range fails pulumi preview with the program's message and changes nothing", 8 * MIN, async () => {
        const stateBefore = await stateByUrn();
        await ws.pulumiOk(["config", "set", "semverRange", "<1.0.0"]);
        const r = await ws.pulumi(["preview"]);
        assert.notEqual(r.code, 0, "preview fails");
        const text = r.stdout + r.stderr;
        assert.match(text, /artifactTag = "1\.0\.6" does not satisfy policy-stack:semverRange = "<1\.0\.0": Flux would never select this artifact/);
        assert.match(text, /Resources:\s+\d+ unchanged\s+1 errored/, "the summary lists no change");
        assert.doesNotMatch(text, /\b\d+ to (create|update|delete|replace)\b/, "no resource step was planned");
        await ws.pulumiOk(["config", "rm", "semverRange"]);
        assert.deepEqual(await stateByUrn(), stateBefore, "the state is untouched");
        await ws.pulumiOk(["preview", "--expect-no-changes"]);
    });

    step("destroying Kyverno (and what depends on it) leaves no webhook configuration and no Kyverno ClusterRole; a Pod is admitted afterwards", 15 * MIN, async () => {
        const webhookKinds = ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"];
        // kubectlJson throws on any error, so an unreadable list fails the step instead of reading as empty.
        const kyvernoWebhooks = async () => (await Promise.all(webhookKinds.map(async (kind) =>
            ((await kube.getJson([kind])).items as any[]).map((i) => `${kind}/${i.metadata.name}`)))).flat().filter((n) => /kyverno/.test(n)).sort();
        const kyvernoRoles = async () => ((await kube.getJson(["clusterroles"])).items as any[]).map((r) => r.metadata.name as string).filter((n) => n.startsWith("kyverno:")).sort();
        const crdNames = async () => ((await kube.getJson(["crd"])).items as any[]).map((c) => c.metadata.name as string);

        // First what is there, so that each "none left" below can fail.
        const hooksBefore = await kyvernoWebhooks();
        assert.ok(hooksBefore.includes("validatingwebhookconfigurations/kyverno-resource-validating-webhook-cfg"), `Kyverno registered its webhooks: ${hooksBefore.join(", ")}`);
        assert.ok(hooksBefore.includes("mutatingwebhookconfigurations/kyverno-policy-mutating-webhook-cfg"), hooksBefore.join(", "));
        const rolesBefore = await kyvernoRoles();
        for (const r of ["kyverno:admission-controller", "kyverno:reports-controller"]) assert.ok(rolesBefore.includes(r), `${r} exists before (got ${rolesBefore.join(", ")})`);
        const policiesBefore = (await kube.getJson(["clusterpolicies.kyverno.io"])).items as any[];
        assert.ok(policiesBefore.length > 0, "policies exist before");
        assert.ok((await crdNames()).includes("clusterpolicies.kyverno.io"));

        const state = JSON.parse((await ws.pulumiOk(["stack", "export"])).stdout);
        const release = (state.deployment.resources as any[]).find((r) => r.type === "kubernetes:helm.sh/v3:Release");
        assert.ok(release, "the Kyverno release is in the state");
        const cleanup = (state.deployment.resources as any[]).find((r) => r.urn.endsWith("::kyverno-webhook-cleanup"));
        assert.ok(cleanup, "the webhook cleanup step is in the state");
        await ws.pulumiOk(["destroy", "--yes", "--target", cleanup.urn, "--target-dependents"], { timeoutMs: 12 * MIN });

        assert.deepEqual(await kyvernoWebhooks(), [], "no Kyverno webhook configuration is left");
        assert.deepEqual(await kyvernoRoles(), [], "no Kyverno ClusterRole is left (none re-created by the aggregation controller)");
        assert.ok(!(await crdNames()).includes("clusterpolicies.kyverno.io"), "the chart's CRDs went with the release (and the policies with them)");
        // The harness stopped the controllers because their Deployments went, as pods would go.
        assert.deepEqual(kyverno!.runningControllers(), [], kyverno!.timeline().join("\n"));
        assert.ok(kyverno!.timeline().some((l) => /stopped kyverno-admission-controller: Deployment deleted/.test(l)), kyverno!.timeline().join("\n"));
        // With fail-closed webhooks left behind and no Kyverno to answer them, this create would be refused.
        const after = await createPod(kube, testPod("after-kyverno", WORKLOADS_NS, { image: "registry.example/e2e/app:latest" }));
        assert.equal(after.code, 0, `a Pod is admitted once Kyverno is gone: ${after.output}`);
    });

    step("pulumi destroy removes everything: kind delete ran, no kwok cluster is left, the state is empty", 20 * MIN, async () => {
        await ws.pulumiOk(["destroy", "--yes"], { timeoutMs: 18 * MIN });
        const deletes = ws.shimCalls().filter((c) => c.argv[0] === "delete");
        assert.deepEqual(deletes.map((c) => [c.argv.join(" "), c.exit]), [[`delete cluster --name ${PROD_CLUSTER}`, 0], [`delete cluster --name ${CLUSTER}`, 0]],
            "prod's cluster went with prod's destroy, this stack's now");
        assert.deepEqual(await kwokClusters(ws), [], "no kwok cluster is left");
        assert.deepEqual(kwokPids(ws), [], "no control-plane process is left");
        const state = JSON.parse((await ws.pulumiOk(["stack", "export"])).stdout);
        assert.deepEqual(state.deployment.resources ?? [], [], "the stack's state is empty");
        await ws.pulumiOk(["stack", "rm", "--yes", STACK]);
    });
});
