/** Flux OCI artifacts: building, pulling and safe layer extraction. Pure: no Pulumi imports. */
export * from "./build";
export { extractLayer, safeEntryPath, LayerExtractError, type ExtractOptions } from "./extract";
export { fluxLayer, pullArtifact, type PullArtifactOptions, type PulledArtifact } from "./pull";
export { crlfToLf, looksBinary, normaliseText, FIRST_FEW_BYTES } from "./eol";
export { detectGit, fluxRevision, redactRemoteUrl, type GitInfo } from "./git";
export { encodeHeader, layerEntriesFor, tarEntries, FILE_MODE, DIR_MODE, TypeFlag, type LayerEntry, type RawHeader } from "./tar";
