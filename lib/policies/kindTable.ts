/**
 * The one table of the Kyverno kinds that may ship: served versions (following the Kyverno CRDs:
 * kyverno.io as of Kyverno 1.14, policies.kyverno.io CEL policies including v1beta1/v1 and the
 * namespaced variants), scope, and how each kind enforces. Validation (kinds.ts) and enforcement
 * (enforcement.ts) both read it, so a new kind is one line here.
 */
/**
 * How a kind enforces: `classic` policies (ClusterPolicy, Policy) by each rule's `failureAction`,
 * `validating` CEL policies by `spec.validationActions`; `other` kinds enforce nothing.
 */
export type Family = "classic" | "validating" | "other";

export interface KindSpec {
    versions: string[];
    namespaced: boolean;
    family: Family;
}

const KYVERNO_IO = "kyverno.io";
const POLICIES_KYVERNO_IO = "policies.kyverno.io";
const CEL_VERSIONS = ["v1alpha1", "v1beta1", "v1"];

/** group -> kind -> spec */
export const ALLOWED_KINDS: Record<string, Record<string, KindSpec>> = {
    [KYVERNO_IO]: {
        ClusterPolicy: { versions: ["v1", "v2beta1"], namespaced: false, family: "classic" },
        Policy: { versions: ["v1", "v2beta1"], namespaced: true, family: "classic" },
        PolicyException: { versions: ["v2", "v2beta1"], namespaced: true, family: "other" },
        CleanupPolicy: { versions: ["v2", "v2beta1"], namespaced: true, family: "other" },
        ClusterCleanupPolicy: { versions: ["v2", "v2beta1"], namespaced: false, family: "other" },
    },
    [POLICIES_KYVERNO_IO]: {
        ValidatingPolicy: { versions: CEL_VERSIONS, namespaced: false, family: "validating" },
        NamespacedValidatingPolicy: { versions: CEL_VERSIONS, namespaced: true, family: "validating" },
        ImageValidatingPolicy: { versions: CEL_VERSIONS, namespaced: false, family: "validating" },
        NamespacedImageValidatingPolicy: { versions: CEL_VERSIONS, namespaced: true, family: "validating" },
        MutatingPolicy: { versions: CEL_VERSIONS, namespaced: false, family: "other" },
        NamespacedMutatingPolicy: { versions: CEL_VERSIONS, namespaced: true, family: "other" },
        GeneratingPolicy: { versions: CEL_VERSIONS, namespaced: false, family: "other" },
        NamespacedGeneratingPolicy: { versions: CEL_VERSIONS, namespaced: true, family: "other" },
        DeletingPolicy: { versions: CEL_VERSIONS, namespaced: false, family: "other" },
        NamespacedDeletingPolicy: { versions: CEL_VERSIONS, namespaced: true, family: "other" },
        PolicyException: { versions: CEL_VERSIONS, namespaced: true, family: "other" },
    },
};

/** How the kind of `apiVersion`/`kind` enforces, or undefined for a kind that may not ship. */
export function familyOf(apiVersion: string, kind: string): Family | undefined {
    const slash = apiVersion.indexOf("/");
    const group = slash < 0 ? "" : apiVersion.slice(0, slash);
    return ALLOWED_KINDS[group]?.[kind]?.family;
}
