import * as pulumi from "@pulumi/pulumi";

/**
 * The environment of a kubectl script (lib/kubectl.ts): the script and its parameters, plus the
 * kubeconfig as KUBECONFIG_DATA (empty for the ambient kubeconfig). Secret as a whole, since it
 * holds the kubeconfig.
 */
export function kubectlEnvironment(
    kubeconfig: pulumi.Input<string | undefined> | undefined,
    variables: pulumi.Input<Record<string, string>>,
): pulumi.Output<Record<string, string>> {
    return pulumi.secret(pulumi.all([kubeconfig, variables]).apply(([k, v]): Record<string, string> => ({ ...v, KUBECONFIG_DATA: k ?? "" })));
}
