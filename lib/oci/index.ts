/**
 * OCI distribution client (plain TypeScript, Node http/https only): push and pull Flux artifacts,
 * resolve tags, with Basic and Bearer-token auth, retries, timeouts and redacted errors.
 */
export { parseOciUrl, isValidTag, isValidDigest, isLoopback, type OciReference } from "./reference";
export { OciError, type OciErrorCode } from "./errors";
export { Redactor } from "./redact";
export { parseCreds, loadDockerCredentials, dockerConfigDir, type Credentials } from "./credentials";
export { newStats, type OciStats, type RequestEvent } from "./stats";
export { parseWwwAuthenticate, type Challenge } from "./auth";
export {
    RegistryClient,
    MANIFEST_ACCEPT,
    parseRetryAfter,
    type ClientOptions,
    type RetryOptions,
    type TimeoutOptions,
    type HttpResponse,
} from "./client";
export { pushImage, resolveTag, type PushImageOptions, type PushResult, type LayerBlob, type ResolveTagOptions } from "./push";
export { pullImage, type PullImageOptions, type PulledImage, type PulledLayer, type Descriptor } from "./pull";
