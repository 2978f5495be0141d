/** Flux OCI artifact building and layer extraction. Pure: no Pulumi imports. */
export * from "./build";
export { extractLayer, safeEntryPath, LayerExtractError, type ExtractOptions } from "./extract";
export { crlfToLf, looksBinary, normaliseText, FIRST_FEW_BYTES } from "./eol";
export { detectGit, fluxRevision, redactRemoteUrl, type GitInfo } from "./git";
export { encodeHeader, layerEntriesFor, tarEntries, FILE_MODE, DIR_MODE, TypeFlag, type LayerEntry, type RawHeader } from "./tar";
