/**
 * Previews: the local policies compared with a published artifact (`published`), the diff itself
 * (`diff`), and the messages the program logs about it (`messages`). No Pulumi here.
 */
export * from "./diff";
export { compareWithPublished, compareWithTag, readPublishedPolicies, selectTag, type CompareOptions, type Comparison, type TagComparison } from "./published";
export { previewReport, promotionLine, tagConflictWarning, type PublishedResult, type TagConflictFacts } from "./messages";
