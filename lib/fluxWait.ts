/**
 * A shell script that asks Flux to reconcile a revision now, waits for Flux to report it applied
 * and Ready, and when that does not happen within the timeout fails quoting Flux's own Ready
 * messages (a wrong registry password, a policy the API rejects), which pulumi-kubernetes' own
 * await never shows. Pure module: the PolicySource component runs the script through
 * `@pulumi/command`, with `kubectl` as the client so any kubeconfig works (client certificates,
 * tokens, exec plugins).
 */
import { shellQuote } from "./kind";
import { kubectlPreamble } from "./kubectl";

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
}

export const OCI_REPOSITORY_RESOURCE = "ocirepositories.source.toolkit.fluxcd.io";
export const KUSTOMIZATION_RESOURCE = "kustomizations.kustomize.toolkit.fluxcd.io";
/** Flux reconciles an object at once when this annotation's value changes (what `flux reconcile` sets). */
export const RECONCILE_REQUESTED_AT = "reconcile.fluxcd.io/requestedAt";

/**
 * The script. It reads the kubeconfig from KUBECONFIG_DATA when set (written to a private temp
 * file, removed on exit), else uses the ambient one. It first sets `reconcile.fluxcd.io/requestedAt`
 * to the revision on both objects (as `flux reconcile` would), so Flux does not wait for its
 * interval to look at a new tag. Exit 0 once the Kustomization's lastAppliedRevision is the
 * revision and its Ready condition is True for the current generation.
 */
export function fluxWaitScript(o: FluxWaitOptions): string {
    const ns = shellQuote(o.namespace);
    const name = shellQuote(o.name);
    const ready = `{.status.conditions[?(@.type=="Ready")]`;
    return [
        ...kubectlPreamble(o.context),
        `want=${shellQuote(o.revision)}`,
        `deadline=$(( $(date +%s) + ${Math.max(1, Math.floor(o.timeoutSeconds))} ))`,
        `field() { k get "$1" -n ${ns} ${name} -o "jsonpath=$2" 2>/dev/null; }`,
        `for kind in ${OCI_REPOSITORY_RESOURCE} ${KUSTOMIZATION_RESOURCE}; do`,
        `  k annotate --overwrite "$kind" -n ${ns} ${name} "${RECONCILE_REQUESTED_AT}=$want" >/dev/null || echo "could not ask Flux to reconcile \${kind%%.*}/${o.namespace}/${o.name} now; waiting for its interval" >&2`,
        "done",
        "while :; do",
        `  applied=$(field ${KUSTOMIZATION_RESOURCE} '{.status.lastAppliedRevision}')`,
        `  status=$(field ${KUSTOMIZATION_RESOURCE} '${ready}.status}')`,
        `  observed=$(field ${KUSTOMIZATION_RESOURCE} '${ready}.observedGeneration}')`,
        `  generation=$(field ${KUSTOMIZATION_RESOURCE} '{.metadata.generation}')`,
        `  if [ "$applied" = "$want" ] && [ "$status" = "True" ] && [ "$observed" = "$generation" ]; then exit 0; fi`,
        `  if [ "$(date +%s)" -ge "$deadline" ]; then`,
        `    echo "Flux did not apply $want within ${o.timeoutSeconds}s:" >&2`,
        `    for kind in ${OCI_REPOSITORY_RESOURCE} ${KUSTOMIZATION_RESOURCE}; do`,
        `      if k get "$kind" -n ${ns} ${name} >/dev/null 2>&1; then`,
        `        echo "  \${kind%%.*}/${o.namespace}/${o.name}: Ready=$(field "$kind" '${ready}.status}') ($(field "$kind" '${ready}.reason}')): $(field "$kind" '${ready}.message}')" >&2`,
        "      else",
        `        echo "  \${kind%%.*}/${o.namespace}/${o.name}: not created (an earlier step failed)" >&2`,
        "      fi",
        "    done",
        `    echo "  (kubectl -n ${o.namespace} describe ocirepository,kustomization ${o.name} shows more)" >&2`,
        "    exit 1",
        "  fi",
        `  sleep ${o.pollSeconds ?? 2}`,
        "done",
    ].join("\n");
}
