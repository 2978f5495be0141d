/**
 * The whole program under strict mocks with a rollout map (update mode): patches only for the
 * policy it enforces, the map in the `enforcement` output, and the enforcementStatus output read
 * by a Command after the Flux status check, never secret.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { devStackConfig, isSecret, ProgramRun, runProgram, secretInput, valueOf } from "../support/mockProgram";

let run: ProgramRun;
const PLAN = { default: "audit", enforce: ["disallow-latest-tag"], audit: [] };

before(async () => {
    run = await runProgram({
        preview: false,
        config: {
            ...devStackConfig(),
            // How the engine hands a Pulumi config object to the program: JSON.
            "policy-stack:enforcement": JSON.stringify({ default: "audit", enforce: ["disallow-latest-tag"] }),
        },
    });
});

describe("rollout map", () => {
    test("the program ran", () => assert.equal(run.error, undefined));

    test("one patch, selecting only the policy the map enforces", () => {
        const k = run.find("kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization");
        assert.deepEqual(k.inputs.spec.patches.map((p: any) => p.target.name), ["^(disallow-latest-tag)$"]);
    });

    test("the outputs carry the map and each policy's enforcement", async () => {
        assert.deepEqual(await valueOf(run.outputs.enforcement), PLAN);
        const policies = Object.fromEntries((run.outputs.policies as { name: string; enforcement: string }[]).map((p) => [p.name, p.enforcement]));
        assert.equal(policies["disallow-latest-tag"], "Enforce");
        assert.equal(policies["disallow-host-path"], "Audit");
        assert.equal(policies["add-default-seccomp"], "None");
    });
});

describe("enforcement status", () => {
    test("a Command runs policy-status.sh after the Flux status check, counts only, the kubeconfig in its secret environment", async () => {
        const read = run.find("command:local:Command", "enforcement-status-read");
        assert.equal(read.inputs.create, `sh -c "$POLICY_STACK_SCRIPT" policy-status.sh`);
        const env = secretInput(read.inputs.environment) as Record<string, string>;
        assert.ok(env, "the environment is secret");
        assert.equal(env.LIST_FAILING, "0");
        assert.equal(env.POLICY_RESOURCES, "clusterpolicies.kyverno.io validatingpolicies.policies.kyverno.io");
        assert.match(env.KUBECONFIG_DATA, /client-key-data/);
        assert.equal(read.inputs.logging, "stderr");
        const component = run.find("policy-stack:kyverno:EnforcementStatus");
        assert.deepEqual(await run.dependencyNames(component), ["policy-source-flux-status"]);
        assert.deepEqual(read.inputs.triggers, ["policy-source-flux-status-id"], "read again whenever the status check runs again");
    });

    test("the output: per policy the action in force and the report counts, never secret", async () => {
        const status = await valueOf(run.outputs.enforcementStatus) as { policies: any[]; unread: string[] };
        assert.equal(await isSecret(run.outputs.enforcementStatus), false);
        assert.deepEqual(status.unread, []);
        const latest = status.policies.find((p) => p.name === "disallow-latest-tag");
        assert.deepEqual(latest, { name: "disallow-latest-tag", kind: "ClusterPolicy", action: "Enforce", pass: 3, fail: 1, warn: 0, error: 0, skip: 0 });
        assert.equal(status.policies.find((p) => p.name === "disallow-host-path")?.action, "NotFound");
        assert.equal(status.policies.length, (run.outputs.policies as unknown[]).length);
    });
});
