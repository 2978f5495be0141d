/**
 * A second project that builds on the policy stack: it reads the published artifact and the Flux
 * objects through a StackReference, so e.g. an application stack can wait for (or pin) the policy
 * revision its cluster enforces.
 *
 *   cd examples/consumer
 *   pulumi stack init dev
 *   pulumi config set policyStack organization/policy-stack/dev   # <org>/policy-stack/<stack> on Pulumi Cloud
 *   pulumi up
 *
 * It needs no npm install inside the repository: @pulumi/pulumi resolves from the root node_modules.
 */
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
const policies = new pulumi.StackReference(config.require("policyStack"));

/** Where the policies are published, and the exact revision Flux reports once it has pulled them. */
export const artifactUrl = policies.requireOutput("artifactUrl") as pulumi.Output<string>;
export const artifactTag = policies.requireOutput("artifactTag") as pulumi.Output<string>;
export const artifactDigest = policies.requireOutput("artifactDigest") as pulumi.Output<string>;
export const artifactRevision = policies.requireOutput("artifactRevision") as pulumi.Output<string>;
/** A pinned reference (`oci://…@sha256:…`) for tools that should not follow the tag. */
export const pinnedArtifact = pulumi.interpolate`${artifactUrl}@${artifactDigest}`;
export const enforcement = policies.requireOutput("enforcement") as pulumi.Output<string>;
export const policyCount = policies.requireOutput("policies").apply((p) => (p as unknown[]).length);
export const kustomization = policies.requireOutput("kustomization");

/** One policy of the stack's `enforcementStatus` output: the action in force in its cluster and Kyverno's result counts. */
interface PolicyStatus {
    name: string;
    namespace?: string;
    kind: string;
    action: string;
    pass: number;
    fail: number;
}
const status = policies.requireOutput("enforcementStatus") as pulumi.Output<{ policies: PolicyStatus[]; unread: string[] }>;
export const enforcementStatus = status;
/** The policies the cluster enforces now, e.g. for an application stack that must comply before it deploys. */
export const enforcedPolicies = status.apply((s) => s.policies.filter((p) => p.action === "Enforce").map((p) => p.name));
/** The policies some existing resource fails (Kyverno's reports when the policy stack last applied). */
export const failingPolicies = status.apply((s) => s.policies.filter((p) => p.fail > 0).map((p) => p.name));
/** The cluster's kubeconfig stays a secret through the reference. */
export const kubeconfig = policies.requireOutput("kubeconfig");
