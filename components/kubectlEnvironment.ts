import * as pulumi from "@pulumi/pulumi";
import type { ClusterAccess } from "./cluster";

/**
 * The environment of a kubectl script (lib/kubectl.ts): the script and its parameters, built by
 * `variables` for the cluster's context, plus the cluster's kubeconfig as KUBECONFIG_DATA (empty
 * for the ambient kubeconfig). Both come from the one access object, so the script talks to the
 * cluster the component's provider does. Secret as a whole, since it holds the kubeconfig.
 * @param cluster undefined for the ambient kubeconfig and its current context.
 */
export function kubectlEnvironment(
    cluster: ClusterAccess | undefined,
    variables: (context: string | undefined) => pulumi.Input<Record<string, string>>,
): pulumi.Output<Record<string, string>> {
    return pulumi.secret(pulumi.all([cluster?.kubeconfig, cluster?.context]).apply(([kubeconfig, context]) =>
        pulumi.output(variables(context)).apply((v): Record<string, string> => ({ ...v, KUBECONFIG_DATA: kubeconfig ?? "" }))));
}
