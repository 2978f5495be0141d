/**
 * Enforcement readiness, the Pulumi side: before the Kustomization's patches are registered, it
 * reads what the cluster enforces now and Kyverno's PolicyReports (lib/preview/readCluster.ts),
 * logs each policy whose action changes and the existing resources the ones about to enforce
 * would block (lib/preview/gate.ts), and under `enforcementGate: block` fails the preview, and the
 * update, naming them. The decisions are pure and tested directly; this file only reads and logs.
 */
import * as pulumi from "@pulumi/pulumi";
import type { EnforcementGate } from "../lib/config";
import { decideGate, enforcesAnything, type ClusterView, type PlannedPolicy } from "../lib/preview/gate";
import { readClusterStatus } from "../lib/preview/readCluster";
import type { ClusterAccess } from "./cluster";

export interface EnforcementGateArgs {
    /** The cluster the policies go to. */
    cluster: ClusterAccess;
    /** Every policy with the action it will have once applied, and its apiVersion (which kinds to read). */
    policies: (PlannedPolicy & { apiVersion: string })[];
    /** `warn` logs what enforcing would block; `block` refuses the change. */
    gate: EnforcementGate;
    /** How messages name the gate's key. Defaults to `enforcementGate`. */
    gateKey?: string;
    /** The resource the messages are logged on. */
    logOn: pulumi.Resource;
}

/**
 * An Output's value, or `{ known: false }` when the engine does not know it in this preview (a
 * cluster that this update creates). The SDK keeps `isKnown` internal; waiting on an unknown
 * Output through `apply` would never return.
 */
async function settled<T>(output: pulumi.Output<T>): Promise<{ known: true; value: T } | { known: false }> {
    const impl = output as unknown as { isKnown: Promise<boolean>; promise(): Promise<T> };
    if (!(await impl.isKnown)) return { known: false };
    return { known: true, value: await impl.promise() };
}

async function view(args: EnforcementGateArgs): Promise<ClusterView> {
    const [kubeconfig, context] = await Promise.all([settled(args.cluster.kubeconfig), settled(args.cluster.context)]);
    if (!kubeconfig.known || !context.known) return { notCreated: true };
    try {
        return { status: await readClusterStatus({ policies: args.policies, listFailing: true, kubeconfig: kubeconfig.value, context: context.value }) };
    } catch (e) {
        return { error: (e as Error).message };
    }
}

/**
 * Resolves once the gate has passed; fails with the refusal under `block`. Feed it into the
 * Kustomization's patches, so nothing that changes the enforcement is registered before it. It
 * reads the cluster only where it matters: on a preview when the stack enforces anything, on an
 * update only under `block` (the preview before it already logged the rest).
 */
export function enforcementGate(args: EnforcementGateArgs): pulumi.Output<void> {
    const dryRun = pulumi.runtime.isDryRun();
    if (!enforcesAnything(args.policies) || (!dryRun && args.gate !== "block")) return pulumi.output(undefined as void);
    return pulumi.output((async () => {
        const decision = decideGate(args.policies, await view(args), args.gate, args.gateKey);
        if (dryRun && decision.lines.length > 0) {
            const text = decision.lines.join("\n");
            await (decision.blocked ? pulumi.log.warn(text, args.logOn) : pulumi.log.info(text, args.logOn));
        }
        // hideStack: the refusal is the whole message, shown on the PolicyStack, without a trace.
        if (decision.refusal !== undefined) throw new pulumi.ResourceError(decision.refusal, args.logOn, true);
    })());
}
