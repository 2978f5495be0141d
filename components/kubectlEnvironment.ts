import * as pulumi from "@pulumi/pulumi";

/**
 * The environment for the kubectl scripts of lib/kubectl.ts: the kubeconfig as KUBECONFIG_DATA,
 * kept secret; empty when the ambient kubeconfig is to be used.
 */
export function kubectlEnvironment(kubeconfig: pulumi.Input<string | undefined> | undefined): pulumi.Output<Record<string, string>> | undefined {
    if (kubeconfig === undefined) return undefined;
    return pulumi.secret(pulumi.output(kubeconfig).apply((k): Record<string, string> => (k === undefined ? {} : { KUBECONFIG_DATA: k })));
}
