/**
 * Result types of the policy loader. The Pulumi component and the patch generator consume these,
 * so the names and shapes are part of the project's internal API: extend, do not rename.
 */

/** Kinds of work a Kyverno (ClusterPolicy/Policy) rule performs. */
export type RuleKind = "validate" | "mutate" | "generate" | "verifyImages";

/** Effective enforcement of a policy as Kyverno would apply it. */
export type Enforcement = "Audit" | "Enforce" | "Mixed" | "None";

export interface PolicyRule {
    name: string;
    kinds: RuleKind[];
    /** Rule-level `validate.failureAction`, as written (absent when the rule does not set it). */
    failureAction?: "Audit" | "Enforce";
}

/** What the loader concludes about one policy, without the parsed object (`loadPolicyDir` with `documents: false`). */
export interface PolicyInfo {
    apiVersion: string;
    kind: string;
    name: string;
    namespace?: string;
    /** Path relative to the policy dir, forward slashes. */
    file: string;
    /** 1-based line where the document's content starts. */
    line: number;
    /**
     * "sha256:<hex>" of the normalised document (canonical JSON with sorted keys of the parsed
     * object), so formatting, comments, key order and CRLF do not change it.
     */
    digest: string;
    /** ClusterPolicy/Policy `spec.rules`; [] for CEL kinds and other policy-like kinds. */
    rules: PolicyRule[];
    /** Spec-level `validationFailureAction` (ClusterPolicy/Policy), as written. */
    validationFailureAction?: string;
    /** `spec.validationActions` (ValidatingPolicy and friends), as written. */
    validationActions?: string[];
    /** Effective enforcement computed from the fields above (rule-level wins, Kyverno defaults apply). */
    enforcement: Enforcement;
}

/** A loaded policy: what the loader concluded, and the parsed object (patches and the preview read it). */
export interface Policy extends PolicyInfo {
    /** The parsed object. */
    document: Record<string, unknown>;
}

export interface PolicyFile {
    /** Relative path, forward slashes. */
    path: string;
    /** Absolute path of the bytes to ship (for an in-tree symlink: the resolved target). */
    absPath: string;
    size: number;
    /** "sha256:<hex>" of the raw bytes as validated; the builder re-checks it while streaming. */
    sha256?: string;
}

/** A file that was seen but is not shipped, and why. Informational. */
export interface SkippedFile {
    path: string;
    /** ignored: Flux defaults/.sourceignore; not-yaml: not .yaml/.yml; empty: YAML with no documents; not-regular: socket, device, FIFO. */
    reason: "ignored" | "not-yaml" | "empty" | "not-regular";
}

/** A loaded policy directory; `P` is {@link PolicyInfo} when it was loaded with `documents: false`. */
export interface PolicySet<P extends PolicyInfo = Policy> {
    /** Absolute path of the policy directory. */
    root: string;
    /** Every file that ships, sorted in archive order (path components compared bytewise). */
    files: PolicyFile[];
    /** Sorted by kind, then namespace, then name. */
    policies: P[];
    /** Files present but not shipped (ignored by Flux rules or not YAML). */
    skipped?: SkippedFile[];
    /** With the validation cache on: how many files were taken from it rather than validated again. */
    cacheHits?: number;
}
