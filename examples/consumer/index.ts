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
/** The cluster's kubeconfig stays a secret through the reference. */
export const kubeconfig = policies.requireOutput("kubeconfig");
