/**
 * The decisions of the PolicyStack component (lib/policyStack.ts), without Pulumi: the cluster
 * settings, the registry credentials and CA, the `policies` output's enforcement, and the
 * preview's tag-conflict warning.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseStackConfig, type RegistryConfig } from "../../lib/config";
import { enforcementPatches } from "../../lib/policies/enforcement";
import { clusterSettings, effectiveEnforcement, registryCaFile, registryCredentials } from "../../lib/policyStack";
import type { PreparedPolicy } from "../../lib/publish";

const ctx = { project: "policy-stack", stack: "dev", projectDir: "/project" };
const config = (values: Record<string, string>) =>
    parseStackConfig(Object.fromEntries(Object.entries(values).map(([k, v]) => [`policy-stack:${k}`, v])), ctx);
const external = (extra: Partial<Extract<RegistryConfig, { mode: "external" }>> = {}): RegistryConfig =>
    ({ mode: "external", pushUrl: "oci://ghcr.io/acme/p", pullUrl: "oci://ghcr.io/acme/p", insecure: false, ...extra });

describe("cluster settings", () => {
    test("kind: the name and node image, and containerd wired to the local registry only when the stack runs one", () => {
        const dev = config({});
        assert.deepEqual(clusterSettings(dev.cluster, dev.registry), { mode: "kind", name: "policy-stack-dev", nodeImage: "kindest/node:v1.34.0", localRegistry: true });
        const kindExternal = config({ registryMode: "external", registryUrl: "oci://127.0.0.1:5000/p" });
        const settings = clusterSettings(kindExternal.cluster, kindExternal.registry);
        assert.equal(settings.mode === "kind" && settings.localRegistry, false);
    });
    test("existing: the kubeconfig and context as configured, nothing of kind", () => {
        const prod = config({ clusterMode: "existing", kubeContext: "prod", kubeconfig: "k", registryUrl: "oci://ghcr.io/acme/p" });
        assert.deepEqual(clusterSettings(prod.cluster, prod.registry), { mode: "existing", kubeconfig: "k", context: "prod" });
    });
});

describe("registry credentials and CA", () => {
    test("an external registry's username and password, built once for the push, the preview and the pull Secret", () => {
        assert.deepEqual(registryCredentials(external({ username: "bot", password: "s3cret" })), { username: "bot", password: "s3cret" });
    });
    test("none without both, and none for the local registry", () => {
        assert.equal(registryCredentials(external()), undefined);
        assert.equal(registryCredentials(external({ username: "bot" })), undefined);
        assert.equal(registryCredentials(config({}).registry), undefined);
    });
    test("the CA file of an external registry; none for the local one", () => {
        assert.equal(registryCaFile(external({ caFile: "/ca.pem" })), "/ca.pem");
        assert.equal(registryCaFile(external()), undefined);
        assert.equal(registryCaFile(config({}).registry), undefined);
    });
});

describe("the policies output's enforcement", () => {
    const policy = (name: string, spec: Record<string, unknown>, enforcement: string): PreparedPolicy => ({
        key: `ClusterPolicy/${name}`, kind: "ClusterPolicy", apiVersion: "kyverno.io/v1", name, file: `${name}.yaml`, digest: "sha256:0", enforcement,
        document: { apiVersion: "kyverno.io/v1", kind: "ClusterPolicy", metadata: { name }, spec },
    });
    const policies = [
        policy("validates", { rules: [{ name: "r", validate: { pattern: {} } }] }, "Audit"),
        policy("mutates", { rules: [{ name: "m", mutate: {} }] }, "None"),
    ];
    test("audit: every policy as written", () => {
        assert.deepEqual(effectiveEnforcement(policies, enforcementPatches(policies, "audit")).map((p) => [p.name, p.enforcement]), [["validates", "Audit"], ["mutates", "None"]]);
    });
    test("enforce: Enforce where a patch selects the policy, as written elsewhere", () => {
        assert.deepEqual(effectiveEnforcement(policies, enforcementPatches(policies, "enforce")), [
            { name: "validates", namespace: undefined, kind: "ClusterPolicy", enforcement: "Enforce" },
            { name: "mutates", namespace: undefined, kind: "ClusterPolicy", enforcement: "None" },
        ]);
    });
});
