/**
 * The policy stack as a Pulumi program: the stack's config, validated, and the policy directory,
 * built, before anything is created; then one PolicyStack (components/policyStack.ts), whose
 * outputs are the stack's.
 */
import * as pulumi from "@pulumi/pulumi";
import { readStackConfig } from "./components/config";
import { checkEnforcementPlan } from "./lib/config";
import { preparePolicyArtifact } from "./components/policyArtifact";
import { PolicyStack } from "./components/policyStack";

export = async () => {
    // Everything that can be wrong with the input fails here, before any resource is registered.
    const config = readStackConfig();
    const prepared = await preparePolicyArtifact(config.artifact.policiesPath, `${pulumi.getProject()}:policiesPath`);
    checkEnforcementPlan(config.enforcement, prepared.policies, `${pulumi.getProject()}:enforcement`);
    return new PolicyStack("policy-stack", { ...config, prepared }).outputs;
};
