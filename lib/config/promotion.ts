/**
 * Where the artifact comes from: `build` (the policy directory, built and pushed by this stack) or
 * `promote` (the exact manifest another stack published, copied into this stack's registry).
 */
import { DEFAULTS } from "./defaults";
import type { ConfigReader } from "./reader";
import { parseCaFile } from "./registry";

export const ARTIFACT_SOURCES = ["build", "promote"] as const;
export type ArtifactSource = (typeof ARTIFACT_SOURCES)[number];

/** How to reach the registry of the stack being promoted from. */
export interface PromotionConfig {
    /** The source stack as a StackReference names it: `org/project/stack`, `project/stack` or `stack`. */
    stack: string;
    /** Credentials for the source registry; default: this stack's own when the source is on the same registry host, else anonymous. */
    username?: string;
    /** A secret. Present whenever `username` is. */
    password?: string;
    /** PEM CA bundle for TLS to the source registry, absolute. */
    caFile?: string;
    /** Plain HTTP to the source registry; default: as for registryInsecure (true on loopback). */
    insecure?: boolean;
}

/** The keys that only `artifactSource: promote` takes. */
const PROMOTE_KEYS = ["promoteFrom", "promoteFromUsername", "promoteFromPassword", "promoteFromCaFile", "promoteFromInsecure"];

/** A stack name as `pulumi.StackReference` takes it: one to three `/`-separated segments. */
const STACK_NAME = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/;

/** True when `from` names `project`'s `stack` (an organisation, when given, cannot be told apart here: assumed the same). */
function namesItself(from: string, project: string, stack: string): boolean {
    const parts = from.split("/");
    const [fromProject, fromStack] = parts.length === 1 ? [project, parts[0]] : parts.slice(-2);
    return fromProject === project && fromStack === stack;
}

/** `artifactSource` and, with `promote`, the source stack and how to reach its registry. */
export function parseArtifactSource(reader: ConfigReader, stack: string): { source: ArtifactSource; promotion?: PromotionConfig } {
    const project = reader.prefix.slice(0, -1);
    const source = reader.oneOf("artifactSource", ARTIFACT_SOURCES, DEFAULTS.artifactSource);
    if (source === "build") {
        reader.refuse(PROMOTE_KEYS, "only applies to artifactSource promote (remove it, or set artifactSource promote)");
        return { source };
    }
    // Promotion builds nothing: a policy directory would be silently ignored.
    reader.refuse(["policiesPath"], "artifactSource promote builds nothing, it copies the source stack's artifact (remove policiesPath)");
    const from = reader.str("promoteFrom");
    if (from === undefined) {
        reader.problem(`${reader.prefix}promoteFrom: required for artifactSource promote: the stack whose artifact to take, e.g. 'pulumi config set promoteFrom my-org/policy-stack/staging'`);
    } else if (!STACK_NAME.test(from)) {
        reader.bad("promoteFrom", from, "must name a stack as org/project/stack, project/stack or stack");
    } else if (namesItself(from, project, stack)) {
        reader.bad("promoteFrom", from, "names this stack; promote from the stack that tested the policies (e.g. staging)");
    }
    const username = reader.str("promoteFromUsername");
    const password = reader.str("promoteFromPassword");
    if ((username === undefined) !== (password === undefined)) {
        reader.problem(`${reader.prefix}promoteFromUsername and promoteFromPassword: set both or neither (the password with 'pulumi config set --secret promoteFromPassword <token>')`);
    }
    const caFile = parseCaFile(reader, "promoteFromCaFile");
    const insecure = reader.str("promoteFromInsecure") === undefined ? undefined : reader.bool("promoteFromInsecure", false);
    // Without a usable source the reader throws; nothing reads a promotion then.
    if (from === undefined) return { source };
    return {
        source,
        promotion: {
            stack: from,
            username,
            password,
            caFile,
            insecure,
        },
    };
}
