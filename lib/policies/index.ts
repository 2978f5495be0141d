/** Policy loading, validation and normalisation. Pure: no Pulumi imports. */
export * from "./types";
export { PolicyLoadError, PolicyLoadAggregateError } from "./errors";
export {
    formatPolicyProblems,
    groupProblems,
    problemsJson,
    suggestSourceignore,
    suggestionsFor,
    MAX_LINES_PER_GROUP,
    PROBLEM_CAUSES,
    type PolicyProblem,
    type ProblemCause,
    type ProblemReport,
    type SourceignoreSuggestion,
    type FormatOptions,
} from "./problems";
export { loadPolicyDir, comparePaths, comparePolicies, DEFAULT_MAX_FILE_SIZE, type LoadPolicyOptions } from "./loader";
export {
    IgnoreMatcher,
    parseIgnorePattern,
    parseIgnoreFile,
    FLUX_DEFAULT_IGNORES,
    SOURCEIGNORE_FILE,
    type IgnorePattern,
} from "./ignore";
export { canonicalJson, digestOf, sha256Digest } from "./normalise";
export { KUSTOMIZATION_FILES } from "./kinds";
export { ALLOWED_KINDS, familyOf, type Family, type KindSpec } from "./kindTable";
export { parseYamlDocuments, expandedNodeCount, findInvalidUtf8, DEFAULT_MAX_EXPANDED_NODES } from "./yaml";
