/**
 * Where the stack's artifact comes from, settled before any resource exists: built from the policy
 * directory (`artifactSource: build`, lib/publish.ts), or promoted from another stack (`promote`):
 * that stack's outputs, read through a StackReference, and its artifact, pulled by digest and
 * checked (lib/promote.ts). A bad policy, a missing or stale source fails the preview here, with
 * nothing changed.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PromotionConfig, RegistryConfig, StackConfig } from "../lib/config";
import { formatPolicyProblems, PolicyLoadAggregateError } from "../lib/policies";
import { promotionHintFor } from "../lib/config/registryHints";
import { withHint } from "../lib/oci/errors";
import { promotionConnection } from "../lib/policyStack";
import { preparePromotion, type PromotionSource } from "../lib/promote";
import { prepareArtifact, type PreparedArtifact } from "../lib/publish";

/**
 * How the program reports a refused policy directory: the loader's grouped report (the formatter the
 * CLI uses), naming the config key and the command that lists every problem. A `RunError`, so
 * `pulumi preview` prints the report without a stack trace. Other errors pass through unchanged.
 * @param configKey the full config key of the directory, e.g. `policy-stack:policiesPath`
 */
export function policyDirectoryError(e: unknown, configKey: string, fullListHint?: string): unknown {
    if (!(e instanceof PolicyLoadAggregateError)) return e;
    const report = formatPolicyProblems(e.report, {
        fullListHint: fullListHint ?? `Every problem, as JSON: node build/cli/artifact.js build --path ${JSON.stringify(e.root)} --output json`,
    });
    return new pulumi.RunError(`${configKey}: ${report}`);
}

/**
 * Loads and builds the policy directory before any resource exists (`prepareArtifact`), a refused
 * directory reported as `policyDirectoryError` does.
 * @param configKey the full config key of the directory, named in the report
 */
export async function preparePolicyArtifact(dir: string, configKey: string): Promise<PreparedArtifact> {
    return prepareArtifact(dir).catch((e: unknown) => {
        throw policyDirectoryError(e, configKey);
    });
}

/** The outputs of the source stack that name its artifact (what every policy stack exports). */
const SOURCE_OUTPUTS = ["artifactUrl", "artifactDigest", "artifactTag"] as const;

/**
 * Reads the source stack's artifact outputs and prepares its artifact for this stack: pulled by
 * digest, its policies loaded for the preview's diff and the enforcement patches.
 * @param configKey the full `promoteFrom` key, named in every refusal
 */
export async function preparePromotedArtifact(promotion: PromotionConfig, registry: RegistryConfig, configKey: string): Promise<{ prepared: PreparedArtifact; source: PromotionSource }> {
    const refuse = (why: string) => new pulumi.RunError(`${configKey} = ${JSON.stringify(promotion.stack)}: ${why}`);
    // A read, not a resource this stack owns: the source stack is only ever read.
    const reference = new pulumi.StackReference("promote-from", { name: promotion.stack });
    const values: Partial<Record<(typeof SOURCE_OUTPUTS)[number], string>> = {};
    for (const name of SOURCE_OUTPUTS) {
        // A stack that does not exist fails the StackReference itself (the engine's "unknown stack"); this covers other read failures.
        const details = await reference.getOutputDetails(name).catch((e: Error) => {
            throw refuse(`cannot read the stack's outputs (${e.message})`);
        });
        const value = details.value ?? details.secretValue;
        if (typeof value === "string" && value !== "") values[name] = value;
    }
    if (values.artifactUrl === undefined || values.artifactDigest === undefined) {
        throw refuse(`the stack has no artifactUrl and artifactDigest outputs; run pulumi up on ${promotion.stack} first (it must be a policy stack that published its artifact)`);
    }
    const url = values.artifactUrl;
    const source: PromotionSource = {
        stack: promotion.stack,
        url,
        digest: values.artifactDigest,
        tag: values.artifactTag,
        ...promotionConnection(promotion, registry, url),
    };
    try {
        const { sourceSignatureDigest, ...prepared } = await preparePromotion(source);
        return { prepared, source: { ...source, signatureDigest: sourceSignatureDigest } };
    } catch (e) {
        const hinted = withHint(e, promotionHintFor(url, registry.pushUrl));
        // The source stack's policies, as this version checks them: the directory was temporary, so the hint pulls them.
        const report = policyDirectoryError(hinted, configKey,
            `The source stack's artifact fails this version's checks. Every problem: node build/cli/artifact.js pull --url ${url}@${values.artifactDigest} --output-dir <dir>, then build --path <dir> --output json`);
        throw report === hinted ? refuse((hinted as Error).message) : report;
    }
}

/** The artifact of the stack: what PolicyStack's `prepared` (and, when promoted, `promotedFrom`) take. */
export interface StackArtifact {
    prepared: PreparedArtifact;
    /** The source of a promoted artifact; undefined when the stack builds its own. */
    promotedFrom?: PromotionSource;
}

/**
 * The stack's artifact as its config says: built from `policiesPath`, or promoted from `promoteFrom`.
 * @param project the config namespace named in refusals (the project's name for this program)
 */
export async function prepareStackArtifact(config: Pick<StackConfig, "artifact" | "registry">, project = pulumi.getProject()): Promise<StackArtifact> {
    const { artifact } = config;
    if (artifact.source === "promote" && artifact.promotion) {
        const { prepared, source } = await preparePromotedArtifact(artifact.promotion, config.registry, `${project}:promoteFrom`);
        return { prepared, promotedFrom: source };
    }
    return { prepared: await preparePolicyArtifact(artifact.policiesPath, `${project}:policiesPath`) };
}
