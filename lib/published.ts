/** Moved to lib/preview; this re-export stays only until index.ts imports lib/preview. */
export { compareWithPublished, selectTag, type CompareOptions, type Comparison } from "./preview/published";
