/**
 * The cluster's enforcement status: `lib/sh/policy-status.sh` reads the live policies' failure
 * actions and Kyverno's PolicyReport results with kubectl (after `lib/sh/kubectl.sh`). The preview
 * runs it in the program (lib/preview/readCluster.ts), the EnforcementStatus component as a
 * Command after Flux applied the policies; lib/preview/clusterStatus.ts parses what it prints.
 * Pure module: no Pulumi.
 */
import { ALLOWED_KINDS } from "./policies/kindTable";
import { kubectlScript, kubectlVariables } from "./kubectl";
import { SCRIPT_VARIABLE, scriptCommand } from "./scripts";

export const POLICY_STATUS_SCRIPT = "policy-status.sh";
/** The command line: the script comes from the environment. */
export const POLICY_STATUS_COMMAND = scriptCommand(POLICY_STATUS_SCRIPT);

/** The policy kinds whose action the status reads: those that enforce (classic and CEL validating). */
export interface PolicyKind {
    apiVersion: string;
    kind: string;
}

/**
 * The resource a policy kind is served as (`clusterpolicies.kyverno.io`), or undefined for a kind
 * that enforces nothing. Every enforcing Kyverno kind ends in "Policy", whose plural is "-ies".
 */
export function policyResource(p: PolicyKind): string | undefined {
    const group = p.apiVersion.includes("/") ? p.apiVersion.slice(0, p.apiVersion.indexOf("/")) : "";
    const family = ALLOWED_KINDS[group]?.[p.kind]?.family;
    if (family !== "classic" && family !== "validating") return undefined;
    return `${p.kind.toLowerCase().replace(/y$/, "ie")}s.${group}`;
}

export interface PolicyStatusOptions {
    /** The policies whose kinds are read (each kind once). */
    policies: readonly PolicyKind[];
    /** List each failing resource (the preview); the Command reads counts only, to keep its output small. */
    listFailing: boolean;
    /** kubeconfig context, when not the current one. */
    context?: string;
    /** kubectl's `--request-timeout` in seconds. Defaults to 20. */
    requestTimeoutSeconds?: number;
}

/** The script's environment, less KUBECONFIG_DATA (which the caller adds, as a secret). */
export function policyStatusEnvironment(o: PolicyStatusOptions): Record<string, string> {
    const resources = [...new Set(o.policies.map(policyResource).filter((r): r is string => r !== undefined))].sort();
    return {
        [SCRIPT_VARIABLE]: kubectlScript(POLICY_STATUS_SCRIPT),
        POLICY_RESOURCES: resources.join(" "),
        LIST_FAILING: o.listFailing ? "1" : "0",
        REQUEST_TIMEOUT: `${o.requestTimeoutSeconds ?? 20}s`,
        ...kubectlVariables(o.context),
    };
}
