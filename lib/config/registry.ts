/** The `registry` section: kind's local registry, or any registry that exists. */
import * as fs from "node:fs";
import { isLoopback, parseOciUrl as parseOciReference, redactUrlCredentials, suggestOciUrl, type OciReference } from "../oci/reference";
import { DEFAULTS } from "./defaults";
import type { ConfigReader } from "./reader";

/** kind's local-registry recipe: a registry container beside the kind nodes. */
export interface LocalRegistryConfig {
    mode: "local";
    /** Container name, also the host name the nodes and pods use to reach it. */
    containerName: string;
    /** Port on 127.0.0.1 of the host. */
    hostPort: number;
    /** Repository inside the registry. */
    repository: string;
    /** Push address as seen from the host: oci://localhost:<port>/<repo>. */
    pushUrl: string;
    /** Pull address as seen from inside the cluster: oci://<container>:5000/<repo>. */
    pullUrl: string;
    insecure: true;
    /** The registry image the container runs. */
    image: string;
}

/** Any registry that already exists (ghcr.io, Harbor, a company registry). */
export interface ExternalRegistryConfig {
    mode: "external";
    pushUrl: string;
    pullUrl: string;
    /** Plain HTTP (or unverified TLS) towards the registry, for push and for Flux. */
    insecure: boolean;
    username?: string;
    /** A secret. Present whenever `username` is. */
    password?: string;
    /** PEM file with extra CA certificates for the push. */
    caFile?: string;
}

export type RegistryConfig = LocalRegistryConfig | ExternalRegistryConfig;

/** A parsed `oci://` URL. */
export interface OciUrl {
    host: string;
    repository: string;
}

/**
 * Parses `oci://host[:port]/repository` with the OCI client's rules (lib/oci), and also refuses
 * a tag or digest in the URL: the stack sets the tag with artifactTag. Returns an error string
 * instead of throwing so the caller can collect every problem.
 */
export function parseOciUrl(value: string): OciUrl | string {
    let ref: OciReference;
    try {
        ref = parseOciReference(value);
    } catch (e) {
        const suggestion = suggestOciUrl(value);
        return `${(e as Error).message}${suggestion ? ` (write ${suggestion})` : ""}`;
    }
    if (ref.tag !== undefined || ref.digest !== undefined) return "must not carry a tag or digest (set the tag with artifactTag)";
    return { host: ref.host, repository: ref.repository };
}

/** The host (with port) of a registry URL the config already accepted. */
export function registryHost(url: string): string {
    const parsed = parseOciUrl(url);
    if (typeof parsed === "string") throw new Error(`${redactUrlCredentials(url)}: ${parsed}`);
    return parsed.host;
}

/** True for registries that live on this machine, which are plain HTTP by default. */
export function isLoopbackHost(host: string): boolean {
    return isLoopback(host.replace(/:\d+$/, "").replace(/^\[|\]$/g, ""));
}

/** The keys that only an external registry takes. */
const EXTERNAL_KEYS = ["registryUrl", "registryPullUrl", "registryUsername", "registryPassword", "registryCaFile"];

/** `registryMode` (by default `local` beside kind, else `external`) and the keys of that mode. */
export function parseRegistry(reader: ConfigReader, clusterMode: "kind" | "existing"): RegistryConfig {
    const mode = reader.oneOf("registryMode", ["local", "external"] as const, clusterMode === "kind" ? "local" : "external");
    return mode === "local" ? parseLocalRegistry(reader, clusterMode) : parseExternalRegistry(reader);
}

function parseLocalRegistry(reader: ConfigReader, clusterMode: "kind" | "existing"): LocalRegistryConfig {
    if (clusterMode !== "kind") {
        reader.bad("registryMode", "local", "the local registry only works beside a kind cluster; set registryMode external and registryUrl");
    }
    reader.refuse(EXTERNAL_KEYS, "only applies to registryMode external (remove it, or set registryMode external)");
    const hostPort = reader.port("localRegistryPort", DEFAULTS.localRegistryPort);
    const containerName = DEFAULTS.localRegistryName;
    const repository = DEFAULTS.repository;
    return {
        mode: "local",
        containerName,
        hostPort,
        repository,
        pushUrl: `oci://localhost:${hostPort}/${repository}`,
        pullUrl: `oci://${containerName}:5000/${repository}`,
        insecure: true,
        image: reader.str("localRegistryImage") ?? DEFAULTS.localRegistryImage,
    };
}

function parseExternalRegistry(reader: ConfigReader): ExternalRegistryConfig {
    const pushUrl = reader.str("registryUrl");
    let pushHost = "";
    if (pushUrl === undefined) {
        reader.problem(`${reader.prefix}registryUrl: required for registryMode external (e.g. 'pulumi config set registryUrl oci://ghcr.io/my-org/kyverno-policies')`);
    } else {
        const parsed = parseOciUrl(pushUrl);
        if (typeof parsed === "string") reader.bad("registryUrl", pushUrl, parsed);
        else pushHost = parsed.host;
    }
    const pullUrl = reader.str("registryPullUrl") ?? pushUrl ?? "";
    if (reader.str("registryPullUrl") !== undefined) {
        const parsed = parseOciUrl(pullUrl);
        if (typeof parsed === "string") reader.bad("registryPullUrl", pullUrl, parsed);
    }
    const { username, password } = parseCredentials(reader);
    const caFile = parseCaFile(reader, "registryCaFile");
    return {
        mode: "external",
        pushUrl: pushUrl ?? "",
        pullUrl,
        insecure: reader.bool("registryInsecure", isLoopbackHost(pushHost)),
        username,
        password,
        caFile,
    };
}

/** registryUsername and registryPassword: both or neither, both when `registryPrivate`. */
function parseCredentials(reader: ConfigReader): { username?: string; password?: string } {
    const username = reader.str("registryUsername");
    const password = reader.str("registryPassword");
    const isPrivate = reader.bool("registryPrivate", username !== undefined);
    if (isPrivate && username === undefined) {
        reader.problem(`${reader.prefix}registryUsername: required because the registry is private (registryPrivate true); set it, or set registryPrivate false`);
    }
    if ((isPrivate || username !== undefined) && password === undefined) {
        reader.problem(`${reader.prefix}registryPassword: required for a private registry; set it with 'pulumi config set --secret registryPassword <token>'`);
    }
    if (!isPrivate && password !== undefined && username === undefined) {
        reader.problem(`${reader.prefix}registryPassword: set, but registryUsername is not; set both or neither`);
    }
    if (username !== undefined && username.includes(":")) {
        reader.bad("registryUsername", username, "must not contain ':' (the Basic auth separator)");
    }
    return { username, password };
}

/** A CA bundle key (registryCaFile, promoteFromCaFile), absolute, once it is known to hold a PEM certificate. */
export function parseCaFile(reader: ConfigReader, key: string): string | undefined {
    const caFile = reader.str(key);
    if (caFile === undefined) return undefined;
    let pem = "";
    try {
        pem = fs.readFileSync(reader.resolvePath(caFile), "utf8");
    } catch {
        reader.bad(key, caFile, "cannot be read: give the path of a PEM CA bundle (relative paths start at the project directory)");
    }
    if (pem && !pem.includes("-----BEGIN CERTIFICATE-----")) reader.bad(key, caFile, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    return reader.resolvePath(caFile);
}
