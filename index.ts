/**
 * The policy stack as a Pulumi program: the stack's config, validated, and its artifact (built
 * from the policy directory, or promoted from another stack), prepared before anything is
 * created; then one PolicyStack (components/policyStack.ts), whose outputs are the stack's.
 */
import * as pulumi from "@pulumi/pulumi";
import { readStackConfig } from "./components/config";
import { checkEnforcementPlan } from "./lib/config";
import { prepareStackArtifact } from "./components/artifactSource";
import { PolicyStack } from "./components/policyStack";

export = async () => {
    // Everything that can be wrong with the input fails here, before any resource is registered.
    const config = readStackConfig();
    const { prepared, promotedFrom } = await prepareStackArtifact(config);
    checkEnforcementPlan(config.enforcement, prepared.policies, `${pulumi.getProject()}:enforcement`);
    return new PolicyStack("policy-stack", { ...config, prepared, promotedFrom }).outputs;
};
