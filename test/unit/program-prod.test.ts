/**
 * The whole program under strict mocks, prod-like stack (existing cluster, private registry,
 * enforce), preview mode.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isSecret, ProgramRun, runProgram, secretInput, valueOf } from "../support/mockProgram";
import { repoRoot } from "../harness/paths";

const PASSWORD = "pa:ss@word-0123";
const KUBECONFIG = "apiVersion: v1\nkind: Config\ncurrent-context: prod\n";
const CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
let run: ProgramRun;

before(async () => {
    const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ca-")), "ca.pem");
    fs.writeFileSync(caFile, CA_PEM);
    run = await runProgram({
        preview: true,
        stack: "prod",
        config: {
            "policy-stack:clusterMode": "existing",
            "policy-stack:kubeconfig": KUBECONFIG,
            "policy-stack:kubeContext": "prod",
            "policy-stack:registryMode": "external",
            "policy-stack:registryUrl": "oci://ghcr.io/acme/kyverno-policies",
            "policy-stack:registryUsername": "acme-bot",
            "policy-stack:registryPassword": PASSWORD,
            "policy-stack:enforcement": "enforce",
            "policy-stack:semverRange": "1.x",
            "policy-stack:registryCaFile": caFile,
            "policy-stack:artifactTag": "1.2.0",
            "policy-stack:policiesPath": path.join(repoRoot, "policies"),
        },
        secretKeys: ["policy-stack:registryPassword", "policy-stack:kubeconfig"],
    });
});

describe("prod stack", () => {
    test("no kind commands and no local registry: only the Flux status check, the Kyverno helpers and the enforcement status", () => {
        assert.deepEqual(run.all("command:local:Command").map((c) => c.name).sort(),
            ["enforcement-status-read", "kyverno-uninstall-helper", "kyverno-webhook-cleanup", "policy-source-flux-status"]);
        for (const c of run.all("command:local:Command")) {
            const environment = secretInput(c.inputs.environment) as Record<string, string>;
            assert.equal(environment?.KUBECONFIG_DATA, KUBECONFIG, `${c.name}: the configured kubeconfig, in a secret environment`);
            assert.match(environment.POLICY_STACK_SCRIPT, /^# shellcheck shell=sh\n/, `${c.name}: the script is in the environment`);
            assert.match(c.inputs.create ?? c.inputs.delete, /^(nohup )?sh -c "\$POLICY_STACK_SCRIPT" [a-z-]+\.sh( <\/dev\/null >\/dev\/null 2>&1 &)?$/, c.name);
        }
        assert.equal(run.all("policy-stack:registry:LocalRegistry").length, 0);
    });
    test("the provider and every kubectl script use the one cluster access: the same kubeconfig and context", () => {
        const provider = run.find("pulumi:providers:kubernetes");
        assert.equal(provider.inputs.context, "prod");
        for (const c of run.all("command:local:Command")) {
            const environment = secretInput(c.inputs.environment) as Record<string, string>;
            assert.equal(environment.KUBE_CONTEXT, "prod", c.name);
            assert.equal(environment.KUBECONFIG_DATA, secretInput(provider.inputs.kubeconfig), c.name);
        }
    });
    test("the provider gets the configured kubeconfig, as a secret", async () => {
        const provider = run.find("pulumi:providers:kubernetes");
        assert.equal(secretInput(provider.inputs.kubeconfig), KUBECONFIG, "a secret input");
        assert.equal(await isSecret(run.outputs.kubeconfig), true);
    });
    test("the registry secret has flux create secret oci's dockerconfigjson shape", async () => {
        const secret = run.find("kubernetes:core/v1:Secret", "registry-credentials-secret");
        assert.equal(secret.inputs.type, "kubernetes.io/dockerconfigjson");
        assert.deepEqual(secret.inputs.metadata, { name: "kyverno-policies-registry", namespace: "flux-system" });
        const stringData = secretInput(secret.inputs.stringData) as Record<string, string>;
        assert.ok(stringData, "stringData is a secret input");
        const config = JSON.parse(stringData[".dockerconfigjson"]);
        assert.deepEqual(config, { auths: { "ghcr.io": { username: "acme-bot", password: PASSWORD, auth: Buffer.from(`acme-bot:${PASSWORD}`).toString("base64") } } });
        assert.equal(await run.parentName(secret), "registry");
    });
    test("one RegistryAccess holds both Secrets, and each answers to the URN it had under its former component", async () => {
        const access = run.find("policy-stack:registry:RegistryAccess", "registry");
        assert.equal(await run.parentName(access), "policy-stack");
        assert.deepEqual(await run.aliasUrns(run.find("kubernetes:core/v1:Secret", "registry-credentials-secret")),
            ["urn:pulumi:prod::policy-stack::policy-stack:registry:RegistrySecret$kubernetes:core/v1:Secret::registry-credentials-secret"]);
        assert.deepEqual(await run.aliasUrns(run.find("kubernetes:core/v1:Secret", "registry-ca-secret")),
            ["urn:pulumi:prod::policy-stack::policy-stack:registry:RegistryCaSecret$kubernetes:core/v1:Secret::registry-ca-secret"]);
        assert.equal(run.all("kubernetes:core/v1:Secret").length, 2);
    });
    test("the secrets wait for Flux (their namespace comes from install.yaml)", async () => {
        const component = run.find("policy-stack:registry:RegistryAccess");
        assert.ok(component.dependsOn !== undefined, "dependsOn is set");
        // Under mocks Flux's ConfigFile has no children, so the list resolves empty.
        assert.deepEqual(await run.dependencyNames(component), []);
    });
    test("the registry CA reaches Flux as the OCIRepository's certSecretRef", async () => {
        const ca = run.find("kubernetes:core/v1:Secret", "registry-ca-secret");
        assert.deepEqual(ca.inputs.metadata, { name: "kyverno-policies-registry-ca", namespace: "flux-system" });
        assert.deepEqual(secretInput(ca.inputs.stringData) ?? ca.inputs.stringData, { "ca.crt": CA_PEM });
        assert.deepEqual(run.find("kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository").inputs.spec.certSecretRef, { name: "kyverno-policies-registry-ca" });
        assert.equal(await run.parentName(ca), "registry");
    });
    test("the OCIRepository uses the secret and TLS", () => {
        const repo = run.find("kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository");
        assert.equal(repo.inputs.spec.url, "oci://ghcr.io/acme/kyverno-policies");
        assert.deepEqual(repo.inputs.spec.secretRef, { name: "kyverno-policies-registry" });
        assert.equal(repo.inputs.spec.insecure, false);
        assert.deepEqual(repo.inputs.spec.ref, { semver: "1.x" });
    });
    test("the password reaches the artifact resource only as a secret", async () => {
        const push = run.find("pulumi-nodejs:dynamic/policy-stack:PolicyArtifact");
        assert.equal(push.inputs.username, "acme-bot");
        assert.equal(secretInput(push.inputs.password), PASSWORD, "the password input is secret");
    });
    test("enforce: one patch per enforcement shape, naming its policies; the mutate-only policy is left alone", () => {
        const k = run.find("kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization");
        assert.deepEqual(k.inputs.spec.patches.map((p: any) => p.target), [
            { group: "kyverno.io", version: "v1", kind: "ClusterPolicy", name: "^(disallow-latest-tag)$" },
            { group: "kyverno.io", version: "v1", kind: "ClusterPolicy", name: "^(disallow-privileged-containers|restrict-nodeport)$" },
            { group: "policies.kyverno.io", version: "v1", kind: "ValidatingPolicy", name: "^(disallow-host-path|require-team-label)$" },
        ]);
        const [latest, oneRule, cel] = k.inputs.spec.patches.map((p: any) => JSON.parse(p.patch));
        assert.deepEqual(latest.map((o: any) => o.path), ["/spec/validationFailureAction", "/spec/rules/0/validate/failureAction", "/spec/rules/1/validate/failureAction"]);
        assert.deepEqual(oneRule.map((o: any) => o.path), ["/spec/validationFailureAction", "/spec/rules/0/validate/failureAction"]);
        assert.deepEqual(cel, [{ op: "add", path: "/spec/validationActions", value: ["Deny"] }]);
        assert.deepEqual(Object.keys(k.inputs.spec.patches[0]).sort(), ["patch", "target"], "only what Flux takes");
    });
    test("outputs report the stack's effective enforcement, policy by policy", async () => {
        const policies = await valueOf<any[]>(run.outputs.policies);
        assert.deepEqual(policies.map((p) => [p.kind, p.name, p.enforcement]).sort(), [
            ["ClusterPolicy", "add-default-seccomp", "None"],
            ["ClusterPolicy", "disallow-latest-tag", "Enforce"],
            ["ClusterPolicy", "disallow-privileged-containers", "Enforce"],
            ["ClusterPolicy", "restrict-nodeport", "Enforce"],
            ["ValidatingPolicy", "disallow-host-path", "Enforce"],
            ["ValidatingPolicy", "require-team-label", "Enforce"],
        ]);
        assert.equal(await valueOf(run.outputs.enforcement), "enforce");
    });
    test("no output holds the password in plain text", async () => {
        for (const [key, value] of Object.entries(run.outputs)) {
            const secret = await isSecret(value as any);
            const plain = JSON.stringify(await valueOf(value as any));
            if (!secret) assert.ok(!plain?.includes(PASSWORD), `output ${key} leaks the password`);
        }
    });
});
