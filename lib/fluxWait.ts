/**
 * The Flux status check: `lib/sh/flux-wait.sh` asks Flux to reconcile a revision now, waits for
 * Flux to report it applied and Ready, and when that does not happen within the timeout fails
 * quoting Flux's own Ready messages (a wrong registry password, a policy the API rejects) and, when
 * the source verifies signatures, its SourceVerified message (an unsigned artifact), which
 * pulumi-kubernetes' own await never shows. Pure module: the PolicySource component runs the
 * script through `@pulumi/command`, with `kubectl` as the client so any kubeconfig works (client
 * certificates, tokens, exec plugins).
 */
import { kubectlScript, kubectlVariables } from "./kubectl";
import { SCRIPT_VARIABLE, scriptCommand, wholeSeconds } from "./scripts";

export interface FluxWaitOptions {
    namespace: string;
    /** Name of the OCIRepository and of the Kustomization. */
    name: string;
    /** `<tag>@sha256:<digest>`. */
    revision: string;
    timeoutSeconds: number;
    /** kubeconfig context, when not the current one. */
    context?: string;
    /** Seconds between polls. Defaults to 2. */
    pollSeconds?: number;
    /**
     * The OCIRepository verifies signatures (`spec.verify`): also wait for its SourceVerified
     * condition to be True, and quote it when it is not. Defaults to false.
     */
    verify?: boolean;
}

/** The resources flux-wait.sh reads and annotates (the end-to-end tests use the same names). */
export const OCI_REPOSITORY_RESOURCE = "ocirepositories.source.toolkit.fluxcd.io";
export const KUSTOMIZATION_RESOURCE = "kustomizations.kustomize.toolkit.fluxcd.io";
/** Flux reconciles an object at once when this annotation's value changes (what `flux reconcile` sets). */
export const RECONCILE_REQUESTED_AT = "reconcile.fluxcd.io/requestedAt";

export const FLUX_WAIT_SCRIPT = "flux-wait.sh";
/** The Command's `create`: the script comes from the environment. */
export const FLUX_WAIT_COMMAND = scriptCommand(FLUX_WAIT_SCRIPT);

/**
 * The Command's environment, less KUBECONFIG_DATA: the script (kubectl.sh and flux-wait.sh) and
 * its parameters. Exit 0 once the Kustomization's lastAppliedRevision is the revision and its
 * Ready condition is True for the current generation (and, with `verify`, the OCIRepository's
 * SourceVerified condition is True).
 */
export function fluxWaitEnvironment(o: FluxWaitOptions): Record<string, string> {
    return {
        [SCRIPT_VARIABLE]: kubectlScript(FLUX_WAIT_SCRIPT),
        FLUX_NAMESPACE: o.namespace,
        FLUX_NAME: o.name,
        FLUX_REVISION: o.revision,
        TIMEOUT_SECONDS: wholeSeconds(o.timeoutSeconds),
        POLL_SECONDS: String(o.pollSeconds ?? 2),
        // Only when on: the environment of a stack without verification stays as it was.
        ...(o.verify ? { FLUX_VERIFY: "true" } : {}),
        ...kubectlVariables(o.context),
    };
}
