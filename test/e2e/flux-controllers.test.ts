/**
 * The real Flux source-controller and kustomize-controller (run as local processes by
 * test/harness/flux-controllers.ts) against a kwok cluster (kwokctl, binary runtime, locally
 * built control plane) and the real registry with htpasswd over TLS. The Flux objects are the
 * program's own (components/policySource.ts rendered under Pulumi mocks), the artifact is pushed
 * by our CLI, the enforcement patches come from lib/policies/enforcement.ts.
 *
 * Proves: the OCIRepository pulls our artifact through a dockerconfigjson Secret and reports
 * `<tag>@sha256:<manifest digest>`; the Kustomization applies it with the patches, so every
 * policy is a ClusterPolicy and every validate rule enforces (and switching to audit restores
 * them as shipped); a wrong password gives Flux's authentication message; `flux pull artifact`
 * gets the same bytes; `oras manifest fetch` shows Flux's media types; TLS with a test CA works
 * through SSL_CERT_FILE, `certSecretRef` or `insecure`, and fails with x509 otherwise; deleting
 * the Flux objects completes (finalizers) and prunes the policies while the controllers run.
 *
 * Set FLUX_TEST_KEEP=1 to keep the work directory (logs, kubeconfig) after the run.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

import { KUSTOMIZATION_RESOURCE, OCI_REPOSITORY_RESOURCE, RECONCILE_REQUESTED_AT } from "../../lib/fluxWait";
import { dockerConfigJson } from "../../lib/dockerconfig";
import { enforcementPatches, type FluxPatch } from "../../lib/policies/enforcement";
import { loadPolicyDir, type PolicySet } from "../../lib/policies";
import { chartCrd, resolveE2eFixtures } from "../harness/fixtures-resolver";
import { startFluxControllers, writeCaBundle, type FluxControllers } from "../harness/flux-controllers";
import { readyCondition, startKwokCluster, waitFor, type KwokCluster, type Kubectl } from "../harness/kube";
import { repoRoot, samplePoliciesDir } from "../harness/paths";
import { run } from "../harness/processes";
import { startRegistry, type RegistryHandle } from "../harness/registry";
import { ensureTools } from "../harness/tools";
import { renderPolicySources, type RenderedPolicySource } from "../support/flux-render";

const NS = "flux-system";
const TAG = "1.0.0";
const REPO = "policies";
const FLUX_CONFIG_MEDIA_TYPE = "application/vnd.cncf.flux.config.v1+json";
const FLUX_CONTENT_MEDIA_TYPE = "application/vnd.cncf.flux.content.v1.tar+gzip";

/** Timings and messages worth reporting; printed at the end. */
const findings: Record<string, unknown> = {};
const t0 = Date.now();
const since = (start: number) => Math.round((Date.now() - start) / 100) / 10;

describe("real Flux controllers against a kwok cluster and an authenticated TLS registry", { timeout: 20 * 60_000 }, () => {
    let work: string;
    let tools: Record<string, string>;
    let registry: RegistryHandle;
    let cluster: KwokCluster;
    let kubectl: Kubectl;
    let controllers: FluxControllers | undefined;
    let set: PolicySet;
    let patches: FluxPatch[];
    let digest: string;
    let revision: string;
    let main: RenderedPolicySource;
    let badAuth: RenderedPolicySource;
    const user = "flux-reader";
    const password = `pw-${crypto.randomBytes(6).toString("hex")}`;
    const logs = () => controllers?.logs().slice(-8000) ?? "";
    const get = (kind: string, name: string) => () => kubectl.get(kind, name, NS);

    before(async () => {
        // Flux's install.yaml and the Kyverno chart (for its ClusterPolicy CRD) first: a missing
        // fixture fails here, before any tool is built or process started.
        const fixtures = await resolveE2eFixtures();
        work = fs.mkdtempSync(path.join(os.tmpdir(), "flux-controllers-"));
        const kyvernoPoliciesCrd = path.join(work, "kyverno.io_clusterpolicies.json");
        fs.writeFileSync(kyvernoPoliciesCrd, JSON.stringify(chartCrd(fixtures.kyverno.dir, "kyverno.io", "kyverno.io_clusterpolicies.yaml")));
        findings.fixtures = { fluxInstall: fixtures.flux.source, kyvernoChart: `${fixtures.kyverno.version} from ${fixtures.kyverno.source}` };
        tools = await ensureTools(["source-controller", "kustomize-controller", "flux", "oras", "kwokctl", "kubectl"]);
        let start = Date.now();
        registry = await startRegistry({ mode: "basic-tls", username: user, password });
        start = Date.now();
        cluster = await startKwokCluster({ name: `flux-${process.pid}`, workDir: path.join(work, "cluster") });
        kubectl = cluster.kubectl;
        findings.kwokClusterCreateSeconds = since(start);

        start = Date.now();
        await kubectl.ok(["apply", "--server-side", "--force-conflicts", "-f", fixtures.flux.path], { timeoutMs: 180_000 });
        // ~1.4 MB: too big for client-side apply's last-applied annotation.
        await kubectl.ok(["apply", "--server-side", "--force-conflicts", "-f", kyvernoPoliciesCrd], { timeoutMs: 180_000 });
        // Not `kubectl wait --for=condition=Established`: it fails at once ("<nil> is of the type
        // <nil>") when it reads a CRD before the API server has written any condition.
        for (const crd of ["ocirepositories.source.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io", "clusterpolicies.kyverno.io"]) {
            await waitFor(`CRD ${crd} Established`, () => kubectl.get("crd", crd),
                (o) => ((o?.status?.conditions ?? []).some((c: any) => c.type === "Established" && c.status === "True") ? true : undefined), 120_000);
        }
        findings.crdInstallSeconds = since(start);

        // The artifact, pushed with our CLI.
        set = await loadPolicyDir(samplePoliciesDir);
        patches = enforcementPatches(set.policies, "enforce");
        const push = await run(process.execPath, [path.join(repoRoot, "build", "cli", "artifact.js"), "push",
            "--path", samplePoliciesDir, "--url", registry.url(REPO), "--tag", TAG,
            "--creds", `${user}:${password}`, "--ca-file", registry.caFile!, "--output", "json"]);
        assert.equal(push.code, 0, `artifact push failed: ${push.stderr}`);
        digest = JSON.parse(push.stdout).digest;
        assert.match(digest, /^sha256:[0-9a-f]{64}$/);
        revision = `${TAG}@${digest}`;

        // The program's objects, as `pulumi up` would send them.
        const common = { namespace: NS, url: registry.url(REPO), semverRange: ">=1.0.0", expectedRevision: revision, insecure: false, interval: "1m", timeoutSeconds: 120 };
        [main, badAuth] = await renderPolicySources([
            { ...common, sourceName: "kyverno-policies", secretName: "kyverno-policies-registry", patches: patches.map((p) => ({ patch: p.patch, target: p.target })) },
            { ...common, sourceName: "kyverno-policies-badauth", secretName: "kyverno-policies-badauth" },
        ]);

        start = Date.now();
        controllers = await startFluxControllers({ kubeconfig: cluster.kubeconfig, workDir: path.join(work, "flux"), caFile: registry.caFile });
        findings.controllersStartSeconds = since(start);
    });

    after(async () => {
        await controllers?.stop();
        await cluster?.stop();
        await registry?.stop();
        findings.totalSeconds = since(t0);
        console.log(`flux-controllers findings:\n${JSON.stringify(findings, null, 2)}`);
        if (work && !process.env.FLUX_TEST_KEEP) fs.rmSync(work, { recursive: true, force: true });
        else if (work) console.log(`kept ${work}`);
    });

    const secret = (name: string, pass: string) => JSON.stringify({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace: NS },
        type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": Buffer.from(dockerConfigJson(registry.host, user, pass)).toString("base64") },
    });

    /** Waits for Ready=True at the current generation and returns the object. */
    const waitReady = (kind: string, name: string, timeoutMs = 120_000) => waitFor(`${kind} ${name} Ready`, get(kind, name), (o) => {
        const c = readyCondition(o);
        return c?.status === "True" && o.status?.observedGeneration === o.metadata.generation ? o : undefined;
    }, timeoutMs, logs);

    const waitNotReady = (kind: string, name: string, match: RegExp, timeoutMs = 120_000) => waitFor(`${kind} ${name} Ready=False ~ ${match}`, get(kind, name), (o) => {
        const c = readyCondition(o);
        return c?.status === "False" && match.test(c.message ?? "") ? c : undefined;
    }, timeoutMs, logs);
    /** What the program's Flux status check does first: `flux reconcile`'s annotation. */
    const requestReconcile = (resource: string, value: string) =>
        kubectl.ok(["annotate", "--overwrite", resource, "-n", NS, "kyverno-policies", `${RECONCILE_REQUESTED_AT}=${value}`]);

    test("the program's OCIRepository and Kustomization become Ready with the pushed revision", async () => {
        await kubectl.apply(secret("kyverno-policies-registry", password));
        let start = Date.now();
        await kubectl.apply(JSON.stringify(main.ociRepository));
        const repo = await waitReady("ocirepository", "kyverno-policies");
        findings.ociRepositoryReadySeconds = since(start);
        assert.equal(repo.status.artifact.revision, revision);
        assert.equal(readyCondition(repo)!.reason, "Succeeded");
        findings.ociRepositoryReadyMessage = readyCondition(repo)!.message;
        assert.match(repo.status.artifact.url, new RegExp(`^http://${controllers!.sourceAddr.replace(/\./g, "\\.")}/ocirepository/${NS}/kyverno-policies/`));
        // The program's objects carry no Pulumi await: its Flux status check does the waiting.
        assert.equal(repo.metadata.annotations["pulumi.com/skipAwait"], "true");
        await requestReconcile(OCI_REPOSITORY_RESOURCE, revision);
        await waitFor("Flux handled the requestedAt annotation", get("ocirepository", "kyverno-policies"),
            (o) => (o?.status?.lastHandledReconcileAt === revision ? o : undefined), 60_000, logs);

        // Pulumi creates the Kustomization only once the OCIRepository is Ready (dependsOn).
        start = Date.now();
        await kubectl.apply(JSON.stringify(main.kustomization));
        const ks = await waitReady("kustomization", "kyverno-policies");
        findings.kustomizationReadySeconds = since(start);
        assert.equal(ks.status.lastAppliedRevision, revision);
        assert.equal(ks.status.lastAttemptedRevision, revision);
        assert.equal(readyCondition(ks)!.reason, "ReconciliationSucceeded");
        findings.kustomizationReadyMessage = readyCondition(ks)!.message;
        assert.equal(ks.status.inventory.entries.length, set.policies.length, "one inventory entry per policy");
        // What Flux kept of the program's spec (nothing rejected or dropped).
        for (const k of ["path", "prune", "wait", "interval", "retryInterval", "timeout"]) assert.deepEqual(ks.spec[k], main.kustomization.spec[k], k);
        assert.equal(ks.spec.patches.length, patches.length);
    });

    test("every policy is a ClusterPolicy and every validate rule enforces (enforce patches)", async () => {
        assert.ok(set.policies.length >= 10 && set.policies.every((p) => p.kind === "ClusterPolicy"));
        let validateRules = 0;
        for (const p of set.policies) {
            const live = await kubectl.get("clusterpolicies.kyverno.io", p.name);
            assert.ok(live, `ClusterPolicy ${p.name} exists`);
            assert.equal(live.metadata.labels?.["kustomize.toolkit.fluxcd.io/name"], "kyverno-policies");
            assert.equal(live.spec.validationFailureAction, "Enforce", `${p.name} spec.validationFailureAction`);
            live.spec.rules.forEach((r: any, i: number) => {
                if (!r.validate) return;
                validateRules++;
                assert.equal(r.validate.failureAction, "Enforce", `${p.name} rule ${i} (${r.name})`);
            });
            assert.equal(live.spec.rules.length, (p.document as any).spec.rules.length);
        }
        assert.ok(validateRules >= set.policies.length);
        findings.enforcedValidateRules = validateRules;
    });

    test("switching the Kustomization to audit (no patches) restores the policies as shipped", async () => {
        const audit = { ...main.kustomization, spec: { ...main.kustomization.spec, patches: [] } };
        const start = Date.now();
        await kubectl.apply(JSON.stringify(audit));
        const ks = await waitReady("kustomization", "kyverno-policies");
        findings.auditSwitchReadySeconds = since(start);
        assert.equal(readyCondition(ks)!.observedGeneration, ks.metadata.generation);
        for (const p of set.policies) {
            const live = await kubectl.get("clusterpolicies.kyverno.io", p.name);
            const doc = p.document as any;
            assert.equal(live.spec.validationFailureAction, doc.spec.validationFailureAction, `${p.name} spec.validationFailureAction as shipped`);
            live.spec.rules.forEach((r: any, i: number) => {
                if (r.validate) assert.equal(r.validate.failureAction, doc.spec.rules[i].validate.failureAction, `${p.name} rule ${i} as shipped`);
            });
        }
        // And back to enforce.
        await kubectl.apply(JSON.stringify(main.kustomization));
        await waitReady("kustomization", "kyverno-policies");
        const live = await kubectl.get("clusterpolicies.kyverno.io", set.policies[0].name);
        assert.equal(live.spec.validationFailureAction, "Enforce");
    });

    test("a changed policy pushed over the same tag (--force): new revision pulled and applied once reconciliation is requested", async () => {
        // As `pulumi up` does it: push, then the Flux status check sets reconcile.fluxcd.io/requestedAt
        // to the new revision on the OCIRepository and the Kustomization and waits for both.
        const dir = path.join(work, "policies-v2");
        fs.cpSync(samplePoliciesDir, dir, { recursive: true });
        const file = path.join(dir, "require-labels.yaml");
        const changedMessage = "The label `app.kubernetes.io/name` is required (v2).";
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/message: ".*"/, `message: ${JSON.stringify(changedMessage)}`));
        const push = await run(process.execPath, [path.join(repoRoot, "build", "cli", "artifact.js"), "push",
            "--path", dir, "--url", registry.url(REPO), "--tag", TAG, "--force",
            "--creds", `${user}:${password}`, "--ca-file", registry.caFile!, "--output", "json"]);
        assert.equal(push.code, 0, `artifact push failed: ${push.stderr}`);
        const v2 = `${TAG}@${JSON.parse(push.stdout).digest}`;
        assert.notEqual(v2, revision);

        let start = Date.now();
        await requestReconcile(OCI_REPOSITORY_RESOURCE, v2);
        const repo = await waitFor("OCIRepository at the new revision", get("ocirepository", "kyverno-policies"),
            (o) => (o?.status?.artifact?.revision === v2 && readyCondition(o)?.status === "True" ? o : undefined), 60_000, logs);
        findings.newRevisionOciRepositorySeconds = since(start);
        assert.equal(repo.status.lastHandledReconcileAt, v2);

        start = Date.now();
        await requestReconcile(KUSTOMIZATION_RESOURCE, v2);
        await waitFor("Kustomization at the new revision", get("kustomization", "kyverno-policies"),
            (o) => (o?.status?.lastAppliedRevision === v2 && readyCondition(o)?.status === "True" ? o : undefined), 60_000, logs);
        findings.newRevisionKustomizationSeconds = since(start);
        const live = await kubectl.get("clusterpolicies.kyverno.io", "require-labels");
        assert.equal(live.spec.rules[0].validate.message, changedMessage);
        assert.equal(live.spec.rules[0].validate.failureAction, "Enforce", "still enforced");

        // Back to the original artifact for the tests below.
        const back = await run(process.execPath, [path.join(repoRoot, "build", "cli", "artifact.js"), "push",
            "--path", samplePoliciesDir, "--url", registry.url(REPO), "--tag", TAG, "--force",
            "--creds", `${user}:${password}`, "--ca-file", registry.caFile!, "--output", "json"]);
        assert.equal(back.code, 0, back.stderr);
        assert.equal(JSON.parse(back.stdout).digest, digest, "the same policies give the same digest");
        await requestReconcile(OCI_REPOSITORY_RESOURCE, `${revision} (again)`);
        await waitFor("OCIRepository back at the first revision", get("ocirepository", "kyverno-policies"),
            (o) => (o?.status?.artifact?.revision === revision && readyCondition(o)?.status === "True" ? o : undefined), 60_000, logs);
        await requestReconcile(KUSTOMIZATION_RESOURCE, `${revision} (again)`);
        await waitFor("Kustomization back at the first revision", get("kustomization", "kyverno-policies"),
            (o) => (o?.status?.lastAppliedRevision === revision && readyCondition(o)?.status === "True" ? o : undefined), 60_000, logs);
    });

    test("a wrong password in the secret: the OCIRepository is not Ready, with Flux's authentication message", async () => {
        await kubectl.apply(secret("kyverno-policies-badauth", "not-the-password"));
        const start = Date.now();
        await kubectl.apply(JSON.stringify(badAuth.ociRepository));
        const cond = await waitNotReady("ocirepository", "kyverno-policies-badauth", /UNAUTHORIZED|authentication required|401/i);
        findings.badAuthNotReadySeconds = since(start);
        findings.badAuthReadyCondition = cond;
        const repo = await kubectl.get("ocirepository", "kyverno-policies-badauth", NS);
        assert.equal(repo.status.artifact, undefined, "no artifact was fetched");
        findings.badAuthConditions = repo.status.conditions.map((c: any) => ({ type: c.type, status: c.status, reason: c.reason }));
        // The password never shows in the status.
        assert.ok(!JSON.stringify(repo.status).includes("not-the-password"));

        // A Kustomization on that source (Pulumi would not create it, but it shows Flux's message there).
        await kubectl.apply(JSON.stringify(badAuth.kustomization));
        const ksCond = await waitNotReady("kustomization", "kyverno-policies-badauth", /.+/);
        findings.badAuthKustomizationReadyCondition = ksCond;
        await kubectl.ok(["delete", "kustomization", "kyverno-policies-badauth", "-n", NS, "--wait=true", "--timeout=60s"]);
    });

    test("token auth over plain HTTP (insecure: true): Flux refuses a token realm on a loopback IP that is not the registry's host:port", async () => {
        // go-containerregistry (v0.21.5+, in source-controller v1.9.4) validates the Bearer realm
        // against SSRF: an IP-literal realm that is loopback/private is refused unless it is the
        // registry's own host:port. The test token service listens on its own 127.0.0.1 port, so
        // token auth cannot work locally with Flux; a realm named `localhost:<port>` (a hostname)
        // or a public https realm (ghcr.io, Docker Hub, ...) passes the check.
        const tokenReg = await startRegistry({ mode: "token", username: user, password });
        try {
            const push = await run(process.execPath, [path.join(repoRoot, "build", "cli", "artifact.js"), "push",
                "--path", samplePoliciesDir, "--url", tokenReg.url(REPO), "--tag", TAG, "--insecure",
                "--creds", `${user}:${password}`, "--output", "json"]);
            assert.equal(push.code, 0, `artifact push failed: ${push.stderr}`);
            assert.equal(JSON.parse(push.stdout).digest, digest, "same policies, same digest on any registry");
            await kubectl.apply(JSON.stringify({
                apiVersion: "v1", kind: "Secret", metadata: { name: "token-creds", namespace: NS }, type: "kubernetes.io/dockerconfigjson",
                data: { ".dockerconfigjson": Buffer.from(dockerConfigJson(tokenReg.host, user, password)).toString("base64") },
            }));
            const o = JSON.parse(JSON.stringify(main.ociRepository));
            o.metadata = { name: "token-auth", namespace: NS };
            Object.assign(o.spec, { url: tokenReg.url(REPO), insecure: true, secretRef: { name: "token-creds" } });
            await kubectl.apply(JSON.stringify(o));
            const realm = new URL(tokenReg.issuer!.realm);
            if (net.isIP(realm.hostname.replace(/^\[|\]$/g, "")) !== 0 && realm.host !== tokenReg.host) {
                const cond = await waitNotReady("ocirepository", "token-auth", /realm/);
                findings.tokenRealmOnLoopbackReadyCondition = cond;
                assert.match(cond.message!, /invalid realm in www-authenticate: realm host "127\.0\.0\.1" is a private or link-local address/);
            } else {
                const ready = await waitReady("ocirepository", "token-auth");
                assert.equal(ready.status.artifact.revision, revision);
            }
            await kubectl.ok(["delete", "ocirepository", "token-auth", "-n", NS, "--wait=true", "--timeout=60s"]);
        } finally {
            await tokenReg.stop();
        }
    });

    test("flux pull artifact (the real Flux CLI) gets exactly the files we pushed", async () => {
        const out = path.join(work, "pulled");
        fs.mkdirSync(out); // flux pull wants an existing directory
        const caBundle = writeCaBundle(work, registry.caFile!);
        const r = await run(tools.flux, ["pull", "artifact", `${registry.url(REPO)}:${TAG}`, "--output", out, "--creds", `${user}:${password}`],
            { env: { ...process.env, SSL_CERT_FILE: caBundle, HOME: work } });
        assert.equal(r.code, 0, `flux pull artifact failed: ${r.stderr}${r.stdout}`);
        findings.fluxPullOutput = (r.stdout + r.stderr).trim().split("\n").filter((l) => !l.includes(password));
        const pulled: string[] = [];
        const walk = (dir: string, rel = "") => {
            for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
                const p = rel ? `${rel}/${e.name}` : e.name;
                if (e.isDirectory()) walk(path.join(dir, e.name), p);
                else pulled.push(p);
            }
        };
        walk(out);
        assert.deepEqual(pulled.sort(), set.files.map((f) => f.path).sort());
        for (const f of set.files) {
            assert.ok(fs.readFileSync(path.join(out, f.path)).equals(fs.readFileSync(f.absPath)), `${f.path} byte for byte`);
        }
    });

    test("oras manifest fetch shows Flux's media types and our digest", async () => {
        const ref = `${registry.host}/${REPO}:${TAG}`;
        const r = await run(tools.oras, ["manifest", "fetch", "--ca-file", registry.caFile!, "-u", user, "-p", password, ref], { env: { ...process.env, HOME: work } });
        assert.equal(r.code, 0, `oras manifest fetch failed: ${r.stderr}`);
        const manifest = JSON.parse(r.stdout);
        assert.equal(manifest.mediaType, "application/vnd.oci.image.manifest.v1+json");
        assert.equal(manifest.config.mediaType, FLUX_CONFIG_MEDIA_TYPE);
        assert.equal(manifest.layers.length, 1);
        assert.equal(manifest.layers[0].mediaType, FLUX_CONTENT_MEDIA_TYPE);
        assert.equal(`sha256:${crypto.createHash("sha256").update(r.stdout).digest("hex")}`, digest, "oras prints the manifest as stored; its sha256 is the digest");
        const d = await run(tools.oras, ["manifest", "fetch", "--descriptor", "--ca-file", registry.caFile!, "-u", user, "-p", password, ref], { env: { ...process.env, HOME: work } });
        assert.equal(d.code, 0, d.stderr);
        assert.equal(JSON.parse(d.stdout).digest, digest);
    });

    test("registry TLS with a test CA: x509 without trust; certSecretRef (ca.crt) or insecure work without SSL_CERT_FILE", async () => {
        // Restart the controllers without the CA (same storage): the objects stay, only trust changes.
        await controllers!.stop();
        const start = Date.now();
        controllers = await startFluxControllers({ kubeconfig: cluster.kubeconfig, workDir: path.join(work, "flux") });
        findings.controllersRestartSeconds = since(start);
        await kubectl.apply(JSON.stringify({
            apiVersion: "v1", kind: "Secret", metadata: { name: "registry-ca", namespace: NS },
            stringData: { "ca.crt": fs.readFileSync(registry.caFile!, "utf8") },
        }));
        const variant = (name: string, spec: Record<string, unknown>) => {
            const o = JSON.parse(JSON.stringify(main.ociRepository));
            o.metadata = { name, namespace: NS };
            Object.assign(o.spec, spec);
            return JSON.stringify(o);
        };
        await kubectl.apply(variant("tls-untrusted", {}));
        await kubectl.apply(variant("tls-certsecretref", { certSecretRef: { name: "registry-ca" } }));
        await kubectl.apply(variant("tls-insecure", { insecure: true }));
        const x509 = await waitNotReady("ocirepository", "tls-untrusted", /x509|certificate/i);
        findings.untrustedCaReadyCondition = x509;
        const withCa = await waitReady("ocirepository", "tls-certsecretref");
        assert.equal(withCa.status.artifact.revision, revision);
        const insecure = await waitReady("ocirepository", "tls-insecure");
        assert.equal(insecure.status.artifact.revision, revision);
    });

    test("deleting the Kustomization and the OCIRepositories completes while the controllers run, and prunes the policies", async () => {
        let start = Date.now();
        await kubectl.ok(["delete", "kustomization", "kyverno-policies", "-n", NS, "--wait=true", "--timeout=120s"], { timeoutMs: 150_000 });
        findings.kustomizationDeleteSeconds = since(start);
        const left = await kubectl.ok(["get", "clusterpolicies.kyverno.io", "-o", "name"]);
        assert.equal(left.trim(), "", "prune: true removes the applied policies on deletion");
        start = Date.now();
        await kubectl.ok(["delete", "ocirepository", "--all", "-n", NS, "--wait=true", "--timeout=120s"], { timeoutMs: 150_000 });
        findings.ociRepositoryDeleteSeconds = since(start);
        assert.equal((await kubectl.ok(["get", "ocirepositories,kustomizations", "-n", NS, "-o", "name"])).trim(), "");
        // source-controller removed the artifacts of the deleted objects from its storage.
        const stored = path.join(controllers!.storagePath, "ocirepository", NS);
        const files = fs.existsSync(stored) ? fs.readdirSync(stored, { recursive: true }).filter((f) => String(f).endsWith(".tar.gz")) : [];
        assert.deepEqual(files, []);
    });

    test("stop() ends both processes and is safe to call twice", async () => {
        const { source, kustomize } = controllers!.pids;
        await Promise.all([controllers!.stop(), controllers!.stop()]);
        await controllers!.stop();
        for (const pid of [source, kustomize]) assert.throws(() => process.kill(pid, 0), /ESRCH/);
    });
});
