/**
 * The scripts the components run with kubectl (the Flux status check, the Kyverno uninstall helper
 * and webhook cleanup) all start with `lib/sh/kubectl.sh`: it checks for kubectl, writes
 * KUBECONFIG_DATA to a private temp file when set, and defines `k` (kubectl with KUBE_CONTEXT).
 * kubectl is the client so any kubeconfig works: client certificates, tokens, exec plugins.
 */
import { readScript } from "./scripts";

/** `lib/sh/<file>` with `lib/sh/kubectl.sh` in front: one script, as `sh -c` runs it. */
export function kubectlScript(file: string): string {
    return `${readScript("kubectl.sh")}\n${readScript(file)}`;
}

/**
 * kubectl.sh's own parameters besides KUBECONFIG_DATA (which the component adds, as a secret).
 * Always set, empty meaning the default, so nothing is taken from the caller's environment.
 */
export function kubectlVariables(context: string | undefined): Record<string, string> {
    return { KUBE_CONTEXT: context ?? "" };
}
