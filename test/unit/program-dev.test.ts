/**
 * The whole program under strict mocks, dev stack (kind + local registry, audit), update mode.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as yaml from "js-yaml";
import { devStackConfig, FAKE_KUBECONFIG, isSecret, ProgramRun, runProgram, secretInput, valueOf } from "../support/mockProgram";
import { scriptFile } from "../support/scripts";

let run: ProgramRun;


before(async () => {
    run = await runProgram({
        preview: false,
        config: {
            ...devStackConfig(),
        },
    });
});

describe("dev stack: components and children", () => {
    const expected: [type: string, name: string, parent: string | undefined][] = [
        ["policy-stack:index:PolicyStack", "policy-stack", undefined],
        ["policy-stack:cluster:Cluster", "cluster", "policy-stack"],
        ["command:local:Command", "cluster-kind", "cluster"],
        ["pulumi:providers:kubernetes", "cluster-k8s", "cluster"],
        ["policy-stack:registry:LocalRegistry", "registry", "policy-stack"],
        ["command:local:Command", "registry-container", "registry"],
        ["command:local:Command", "registry-connect", "registry"],
        ["kubernetes:core/v1:ConfigMap", "registry-hosting", "registry"],
        ["policy-stack:artifact:PolicyArtifact", "policies", "policy-stack"],
        ["pulumi-nodejs:dynamic/policy-stack:PolicyArtifact", "policies-push", "policies"],
        ["policy-stack:flux:Flux", "flux", "policy-stack"],
        ["kubernetes:yaml/v2:ConfigFile", "flux-install", "flux"],
        ["policy-stack:kyverno:Kyverno", "kyverno", "policy-stack"],
        ["kubernetes:helm.sh/v3:Release", "kyverno-release", "kyverno"],
        ["command:local:Command", "kyverno-uninstall-helper", "kyverno"],
        ["command:local:Command", "kyverno-webhook-cleanup", "kyverno"],
        ["policy-stack:flux:PolicySource", "policy-source", "policy-stack"],
        ["kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository", "policy-source-source", "policy-source"],
        ["kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization", "policy-source-apply", "policy-source"],
        ["command:local:Command", "policy-source-flux-status", "policy-source"],
        ["policy-stack:kyverno:EnforcementStatus", "enforcement-status", "policy-stack"],
        ["command:local:Command", "enforcement-status-read", "enforcement-status"],
    ];
    for (const [type, name, parent] of expected) {
        test(`${type} ${name}${parent ? ` under ${parent}` : ""}`, async () => {
            const r = run.find(type, name);
            assert.equal(await run.parentName(r), parent);
        });
    }
    test("nothing else is created (no registry access without credentials or a CA)", () => {
        assert.equal(run.resources.length, expected.length, run.resources.map((r) => `${r.type}/${r.name}`).join("\n"));
        assert.equal(run.all("kubernetes:core/v1:Secret").length, 0);
        assert.equal(run.all("policy-stack:registry:RegistryAccess").length, 0);
    });
    test("the components under PolicyStack answer to the URNs they had at the top of the program (no replacement)", async () => {
        // EnforcementStatus came with PolicyStack: it has no older URN to answer to.
        const moved = expected.filter(([type, , parent]) => parent === "policy-stack" && type !== "policy-stack:kyverno:EnforcementStatus");
        assert.equal(moved.length, 6);
        for (const [type, name] of moved) {
            assert.deepEqual(await run.aliasUrns(run.find(type, name)), [`urn:pulumi:dev::policy-stack::${type}::${name}`], `${type} ${name}`);
        }
        assert.deepEqual(await run.aliasUrns(run.find("policy-stack:index:PolicyStack")), [], "the stack component itself is new");
        assert.deepEqual(await run.aliasUrns(run.find("policy-stack:kyverno:EnforcementStatus")), []);
    });
    test("every Kubernetes resource uses the cluster's provider", () => {
        const k8sTypes = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
        assert.ok(k8sTypes.length >= 5);
        for (const r of k8sTypes) assert.match(r.provider ?? "", /pulumi:providers:kubernetes::cluster-k8s::/, `${r.type}/${r.name}`);
    });
});

describe("dev stack: kind cluster", () => {
    test("create/delete run lib/sh/kind-cluster.sh with the name in the environment, and the generated kind config on stdin", () => {
        const kind = run.find("command:local:Command", "cluster-kind");
        assert.equal(kind.inputs.create, `sh -c "$POLICY_STACK_SCRIPT" kind-cluster.sh create`);
        assert.equal(kind.inputs.delete, `sh -c "$POLICY_STACK_SCRIPT" kind-cluster.sh delete`);
        assert.deepEqual(kind.inputs.environment, { POLICY_STACK_SCRIPT: scriptFile("kind-cluster.sh"), KIND_CLUSTER: "policy-stack-dev", KIND_WAIT_SECONDS: "120" });
        const config = yaml.load(kind.inputs.stdin) as any;
        assert.equal(config.nodes[0].image, "kindest/node:v1.34.0");
        assert.equal(config.containerdConfigPatches.length, 1, "local registry needs containerd certs.d");
    });
    test("the provider reads the kubeconfig from the kind command", () => {
        const provider = run.find("pulumi:providers:kubernetes", "cluster-k8s");
        assert.match(secretInput(provider.inputs.kubeconfig) as string, /kind: Config/, "a secret input");
        assert.equal(String(provider.inputs.enableServerSideApply), "true");
    });
    test("the kubeconfig output is a secret", async () => {
        assert.equal(await isSecret(run.outputs.kubeconfig), true);
    });
});

describe("dev stack: ordering", () => {
    test("the push waits for the registry container, not for the cluster", async () => {
        const deps = await run.dependencyNames(run.find("policy-stack:artifact:PolicyArtifact", "policies"));
        assert.deepEqual(deps, ["registry-container"]);
        const push = run.find("pulumi-nodejs:dynamic/policy-stack:PolicyArtifact", "policies-push");
        assert.equal(JSON.stringify(push.inputs).includes("kind: Config"), false);
    });
    test("the registry container does not wait for the cluster; its node set-up does", async () => {
        const container = run.find("command:local:Command", "registry-container");
        assert.equal(JSON.stringify(container.inputs).includes("policy-stack-dev"), false, "built from plain values only");
        assert.deepEqual(container.inputs.environment, {
            POLICY_STACK_SCRIPT: scriptFile("registry-container.sh"), REGISTRY_CONTAINER: "kind-registry", REGISTRY_HOST_PORT: "5001", REGISTRY_IMAGE: "registry:2",
        });
        const connect = run.find("command:local:Command", "registry-connect");
        assert.equal(connect.inputs.create, `sh -c "$POLICY_STACK_SCRIPT" registry-connect.sh`);
        assert.equal(connect.inputs.environment.KIND_CLUSTER, "policy-stack-dev", "uses the cluster's name output");
        assert.equal(connect.inputs.environment.POLICY_STACK_SCRIPT, scriptFile("registry-connect.sh"));
    });
    test("Flux and Kyverno do not wait for each other", async () => {
        assert.deepEqual(await run.dependencyNames(run.find("policy-stack:flux:Flux", "flux")), []);
        assert.deepEqual(await run.dependencyNames(run.find("policy-stack:kyverno:Kyverno", "kyverno")), []);
    });
    test("the OCIRepository waits for the pushed artifact (and Flux)", async () => {
        const deps = await run.dependencyNames(run.find("kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository"));
        assert.ok(deps.includes("policies-push"), deps.join(","));
        assert.ok(!deps.includes("kyverno-release"), "the source does not wait for Kyverno");
    });
    test("the Kustomization waits for Kyverno and the OCIRepository", async () => {
        const deps = await run.dependencyNames(run.find("kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"));
        assert.deepEqual(deps.sort(), ["kyverno-release", "policy-source-source"]);
    });
});

describe("dev stack: Flux status check", () => {
    test("asks Flux to reconcile and waits for the revision after the objects, with the cluster's kubeconfig as a secret", async () => {
        const check = run.find("command:local:Command", "policy-source-flux-status");
        const push = run.find("pulumi-nodejs:dynamic/policy-stack:PolicyArtifact", "policies-push");
        // A short constant command line (pulumi-command quotes it in every failure); the script and
        // its parameters are the environment, a secret input since it holds the kubeconfig.
        assert.equal(check.inputs.create, `sh -c "$POLICY_STACK_SCRIPT" flux-wait.sh`);
        assert.deepEqual(secretInput(check.inputs.environment), {
            POLICY_STACK_SCRIPT: `${scriptFile("kubectl.sh")}\n${scriptFile("flux-wait.sh")}`,
            FLUX_NAMESPACE: "flux-system",
            FLUX_NAME: "kyverno-policies",
            FLUX_REVISION: `1.0.0@${push.inputs.digest}`,
            TIMEOUT_SECONDS: "300",
            POLL_SECONDS: "2",
            KUBE_CONTEXT: "",
            KUBECONFIG_DATA: FAKE_KUBECONFIG,
        });
        // The revision and both objects' generations (0 under mocks, which report no generation).
        assert.deepEqual(check.inputs.triggers, [`1.0.0@${push.inputs.digest}`, 0, 0]);
        // After the objects it reconciles (and so after the push, which the OCIRepository waits for).
        assert.deepEqual((await run.dependencyNames(check)).sort(), ["policy-source-apply", "policy-source-source"]);
    });
});

describe("dev stack: Kyverno uninstall helper", () => {
    test("only a delete step, run just before the release's (it depends on it), starting a detached watcher", async () => {
        const helper = run.find("command:local:Command", "kyverno-uninstall-helper");
        assert.equal(helper.inputs.create, undefined);
        assert.equal(helper.inputs.delete, `nohup sh -c "$POLICY_STACK_SCRIPT" kyverno-orphan-reaper.sh </dev/null >/dev/null 2>&1 &`);
        assert.deepEqual(secretInput(helper.inputs.environment), {
            POLICY_STACK_SCRIPT: `${scriptFile("kubectl.sh")}\n${scriptFile("kyverno-orphan-reaper.sh")}`,
            HELM_RELEASE: "kyverno",
            HELM_NAMESPACE: "kyverno",
            // Helm's timeout (600 s) and a minute.
            TIMEOUT_SECONDS: "660",
            POLL_SECONDS: "2",
            KUBE_CONTEXT: "",
            KUBECONFIG_DATA: FAKE_KUBECONFIG,
        });
        assert.deepEqual(await run.dependencyNames(helper), ["kyverno-release"]);
    });
});

describe("dev stack: Kyverno webhook cleanup", () => {
    test("only a delete step, run after the release's (the release depends on it), removing Kyverno's labelled webhooks", async () => {
        const cleanup = run.find("command:local:Command", "kyverno-webhook-cleanup");
        assert.equal(cleanup.inputs.create, undefined);
        assert.equal(cleanup.inputs.delete, `sh -c "$POLICY_STACK_SCRIPT" kyverno-webhook-cleanup.sh`);
        assert.deepEqual(secretInput(cleanup.inputs.environment), {
            POLICY_STACK_SCRIPT: `${scriptFile("kubectl.sh")}\n${scriptFile("kyverno-webhook-cleanup.sh")}`,
            KYVERNO_NAMESPACE: "kyverno",
            TIMEOUT_SECONDS: "120",
            POLL_SECONDS: "2",
            QUIET_POLLS: "3",
            KUBE_CONTEXT: "",
            KUBECONFIG_DATA: FAKE_KUBECONFIG,
        });
        assert.deepEqual(await run.dependencyNames(cleanup), []);
        assert.ok((await run.dependencyNames(run.find("kubernetes:helm.sh/v3:Release"))).includes("kyverno-webhook-cleanup"));
    });
});

describe("dev stack: Flux objects", () => {
    test("OCIRepository: pull address, semver ref, insecure, no secret", () => {
        const repo = run.find("kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository");
        assert.equal(repo.inputs.apiVersion, "source.toolkit.fluxcd.io/v1");
        assert.equal(repo.inputs.kind, "OCIRepository");
        assert.deepEqual(repo.inputs.metadata.name, "kyverno-policies");
        assert.deepEqual(repo.inputs.metadata.namespace, "flux-system");
        assert.equal(repo.inputs.spec.url, "oci://kind-registry:5000/kyverno-policies");
        assert.deepEqual(repo.inputs.spec.ref, { semver: ">=1.0.0" });
        assert.equal(repo.inputs.spec.insecure, true);
        assert.equal(repo.inputs.spec.secretRef, undefined);
    });
    test("Kustomization: source, prune, wait, timeout, no patches for audit", () => {
        const k = run.find("kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization");
        assert.equal(k.inputs.apiVersion, "kustomize.toolkit.fluxcd.io/v1");
        assert.deepEqual(k.inputs.spec.sourceRef, { kind: "OCIRepository", name: "kyverno-policies" });
        assert.equal(k.inputs.spec.prune, true);
        assert.equal(k.inputs.spec.wait, true);
        assert.equal(k.inputs.spec.timeout, "300s");
        assert.deepEqual(k.inputs.spec.patches, []);
    });
    test("neither carries a Pulumi await or anything that changes with the revision (the Flux status check waits)", () => {
        const repo = run.find("kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository");
        const k = run.find("kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization");
        for (const o of [repo, k]) assert.deepEqual(o.inputs.metadata.annotations, { "pulumi.com/skipAwait": "true" });
        const push = run.find("pulumi-nodejs:dynamic/policy-stack:PolicyArtifact", "policies-push");
        assert.ok(!JSON.stringify([repo.inputs, k.inputs]).includes(push.inputs.digest), "no input of the objects holds the digest");
    });
});

describe("dev stack: artifact, Flux, Kyverno inputs", () => {
    test("the artifact resource carries one entry per policy", () => {
        const push = run.find("pulumi-nodejs:dynamic/policy-stack:PolicyArtifact", "policies-push");
        assert.equal(push.inputs.url, "oci://localhost:5001/kyverno-policies");
        assert.equal(push.inputs.tag, "1.0.0");
        assert.equal(push.inputs.insecure, true);
        const keys = Object.keys(push.inputs.policies).sort();
        assert.deepEqual(keys, [
            "ClusterPolicy/add-default-seccomp",
            "ClusterPolicy/disallow-latest-tag",
            "ClusterPolicy/disallow-privileged-containers",
            "ClusterPolicy/restrict-nodeport",
            "ValidatingPolicy/disallow-host-path",
            "ValidatingPolicy/require-team-label",
        ]);
        for (const entry of Object.values<any>(push.inputs.policies)) assert.match(entry.digest, /^sha256:[0-9a-f]{64}$/);
        assert.equal(push.inputs.password, undefined);
    });
    test("Flux from the release URL, Kyverno from the Helm repository", () => {
        assert.equal(run.find("kubernetes:yaml/v2:ConfigFile").inputs.file, "https://github.com/fluxcd/flux2/releases/download/v2.9.4/install.yaml");
        const release = run.find("kubernetes:helm.sh/v3:Release");
        assert.equal(release.inputs.chart, "kyverno");
        assert.equal(release.inputs.version, "3.9.1");
        assert.deepEqual(release.inputs.repositoryOpts, { repo: "https://kyverno.github.io/kyverno/" });
        assert.equal(release.inputs.namespace, "kyverno");
        assert.equal(release.inputs.skipAwait, false);
    });
    test("local-registry-hosting ConfigMap in kube-public", () => {
        const cm = run.find("kubernetes:core/v1:ConfigMap");
        assert.deepEqual(cm.inputs.metadata, { name: "local-registry-hosting", namespace: "kube-public" });
        assert.match(cm.inputs.data["localRegistryHosting.v1"], /host: "localhost:5001"/);
    });
});

describe("dev stack: outputs", () => {
    test("cluster, registry, artifact, versions, Flux objects", async () => {
        const o = run.outputs;
        assert.equal(await valueOf(o.clusterName), "policy-stack-dev");
        assert.equal(await valueOf(o.registryPushUrl), "oci://localhost:5001/kyverno-policies");
        assert.equal(await valueOf(o.registryPullUrl), "oci://kind-registry:5000/kyverno-policies");
        assert.equal(await valueOf(o.artifactTag), "1.0.0");
        assert.match(await valueOf<string>(o.artifactDigest), /^sha256:/);
        assert.equal(await valueOf(o.artifactRevision), `1.0.0@${await valueOf(o.artifactDigest)}`);
        assert.equal(await valueOf(o.fluxVersion), "v2.9.4");
        assert.equal(await valueOf(o.kyvernoChartVersion), "3.9.1");
        assert.deepEqual(await valueOf(o.kustomization), { name: "kyverno-policies", namespace: "flux-system" });
        assert.deepEqual(await valueOf(o.ociRepository), { name: "kyverno-policies", namespace: "flux-system" });
        const policies = await valueOf<any[]>(o.policies);
        assert.equal(policies.length, 6);
        assert.deepEqual(policies.find((p) => p.name === "require-team-label"), { name: "require-team-label", namespace: undefined, kind: "ValidatingPolicy", enforcement: "Audit" });
    });
});
