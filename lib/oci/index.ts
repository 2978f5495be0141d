/**
 * OCI distribution client (plain TypeScript, Node http/https only): push and pull Flux artifacts,
 * resolve tags, single blob and manifest steps, with Basic and Bearer-token auth, retries,
 * timeouts and redacted errors. Layers: `transport/` (how requests travel) under `client`
 * (the registry API) under `push`/`pull` (whole operations).
 */
export { parseOciUrl, suggestOciUrl, isValidTag, isValidDigest, isValidReference, isLoopback, redactUrlCredentials, type OciReference } from "./reference";
export { sha256Digest, sha256Hasher, type DigestHasher } from "./digest";
export { OciError, OCI_ERROR_REASONS, withHint, type HintFor, type OciErrorCode, type OciErrorReason, type OciErrorDetails } from "./errors";
export { Redactor } from "./transport/redact";
export { parseCreds, loadDockerCredentials, dockerConfigDir, type Credential, type Credentials } from "./credentials";
export { newStats, type OciStats, type RequestEvent } from "./stats";
export { parseWwwAuthenticate, type Challenge } from "./transport/challenge";
export { parseRetryAfter, type RetryOptions } from "./transport/retry";
export type { TimeoutOptions, HttpResponse } from "./transport/http";
export { RegistryClient, withClient, MANIFEST_ACCEPT, type ClientOptions, type FetchedManifest } from "./client";
export {
    pushImage,
    resolveTag,
    pushBlob,
    pushManifest,
    type PushImageOptions,
    type PushResult,
    type LayerBlob,
    type ResolveTagOptions,
    type PushBlobOptions,
    type PushBlobResult,
    type PushManifestOptions,
} from "./push";
export {
    pullImage,
    fetchManifest,
    fetchBlob,
    type PullImageOptions,
    type PulledImage,
    type PulledLayer,
    type Descriptor,
    type FetchManifestOptions,
    type FetchBlobOptions,
} from "./pull";
export { copyImage, type CopyEndpoint, type CopyImageOptions, type CopyImageResult } from "./copy";
