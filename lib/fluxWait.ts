/**
 * A shell script that waits for Flux to report a revision Ready and, when it does not within the
 * timeout, fails quoting Flux's own Ready messages. pulumi-kubernetes' `pulumi.com/waitFor` only
 * says "Resource has condition Ready=False (want True)"; the team needs Flux's reason (a wrong
 * registry password, a policy the API rejects). Pure module: the PolicySource component runs the
 * script through `@pulumi/command`, with `kubectl` as the client so any kubeconfig works
 * (client certificates, tokens, exec plugins).
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

/**
 * The script. It reads the kubeconfig from KUBECONFIG_DATA when set (written to a private temp
 * file, removed on exit), else uses the ambient one. Exit 0 once the Kustomization's
 * lastAppliedRevision is the revision and its Ready condition is True for the current generation.
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
