import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { enforcementStatusOutput, parseClusterStatus, type EnforcementStatusOutput } from "../lib/preview/clusterStatus";
import { POLICY_STATUS_COMMAND, policyStatusEnvironment } from "../lib/policyStatus";
import type { ClusterAccess } from "./cluster";
import { kubectlEnvironment } from "./kubectlEnvironment";

export interface EnforcementStatusArgs {
    /** The cluster to read. Defaults to the ambient kubeconfig and its current context. */
    cluster?: ClusterAccess;
    /** The policies to report on: the stack's. */
    policies: { apiVersion: string; kind: string; name: string; namespace?: string }[];
    /**
     * Values whose change reads the cluster again (e.g. the Flux status check's id, which changes
     * whenever Flux applies a new revision or new patches). Defaults to none: read once.
     */
    triggers?: pulumi.Input<unknown>[];
}

/**
 * What the cluster enforces and what Kyverno reports, per policy, as a stack output: a Command
 * (lib/sh/policy-status.sh, after Flux applied the policies: pass the Flux status check in
 * `dependsOn`) whose short output (counts, not resources) is kept in the state and parsed here.
 * It reads again only when `triggers` change, so an unchanged stack previews no change; the counts
 * are those of the last `up` that applied something.
 */
export class EnforcementStatus extends pulumi.ComponentResource {
    public static readonly type = "policy-stack:kyverno:EnforcementStatus";
    public readonly read: command.local.Command;
    /** Per policy: the action in force and Kyverno's result counts; what could not be read. */
    public readonly status: pulumi.Output<EnforcementStatusOutput>;

    constructor(name: string, args: EnforcementStatusArgs, opts?: pulumi.ComponentResourceOptions) {
        super(EnforcementStatus.type, name, {}, opts);
        const policies = args.policies.map((p) => ({ apiVersion: p.apiVersion, kind: p.kind, name: p.name, namespace: p.namespace }));
        this.read = new command.local.Command(`${name}-read`, {
            create: POLICY_STATUS_COMMAND,
            environment: kubectlEnvironment(args.cluster, (context) => policyStatusEnvironment({ policies, listFailing: false, context })),
            triggers: args.triggers ?? [],
            // stdout is parsed, not shown; kubectl's complaints are.
            logging: "stderr",
        }, { parent: this });
        // The environment holds the kubeconfig, so the engine may mark what the Command returns secret;
        // what is parsed from it is names, actions and counts only.
        this.status = pulumi.unsecret(this.read.stdout).apply((text) => enforcementStatusOutput(policies, parseClusterStatus(text)));
        this.registerOutputs({ status: this.status });
    }
}
