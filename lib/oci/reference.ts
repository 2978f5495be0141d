import { isValidDigest } from "./digest";
import { OciError, type OciErrorReason } from "./errors";

export { isValidDigest };

/** A parsed `oci://host[:port]/repository[:tag|@digest]` reference. */
export interface OciReference {
    /** Normalised `oci://host/repository` without tag or digest. */
    url: string;
    /** `host[:port]` as it appears in registry URLs and docker config keys (IPv6 in brackets). */
    host: string;
    /** Host name or address without port or brackets (for TLS SNI and loopback detection). */
    hostname: string;
    /** Explicit port, if any. */
    port?: number;
    /** Repository path inside the registry, e.g. `policies/kyverno`. */
    repository: string;
    /** Tag given in the URL (`…/repo:tag`), if any. */
    tag?: string;
    /** Digest given in the URL (`…/repo@sha256:…`), if any. */
    digest?: string;
    /** True for localhost, 127.0.0.0/8 and ::1, where plain HTTP is allowed by default. */
    loopback: boolean;
}

// From the OCI distribution spec: path components separated by '/', each lowercase alphanumerics
// joined by '.', '_', '__' or dashes. This already excludes '.', '..' and empty segments; the explicit
// checks below exist to give a precise message.
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Validates a tag per the OCI distribution spec. */
export function isValidTag(tag: string): boolean {
    return TAG.test(tag);
}

/** A manifest reference: a tag, or a digest (anything with a colon). */
export function isValidReference(reference: string): boolean {
    return reference.includes(":") ? isValidDigest(reference) : isValidTag(reference);
}

/** True for names that always mean this machine. */
export function isLoopback(hostname: string): boolean {
    const h = hostname.toLowerCase();
    return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * `input` with anything that looks like `user:password@` before the host replaced by `***@`, so an
 * error about a URL never prints a password someone pasted into it. Passwords may hold `@`, `:` and
 * `/`: everything up to the last `@` that is not a digest separator goes.
 */
export function redactUrlCredentials(input: string): string {
    return input.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?)([\s\S]*)@(?=[^@]*\/|(?!sha(?:256|512):))/i, "$1***@");
}

function bad(input: string, why: string, reason?: OciErrorReason): never {
    throw new OciError("reference", `invalid OCI URL "${redactUrlCredentials(input)}": ${why}`, { reason });
}

/**
 * The `oci://` form of a registry address written without a scheme or as http(s):// (credentials
 * redacted), to suggest in an error; undefined when the input has some other scheme.
 */
export function suggestOciUrl(input: string): string | undefined {
    const shown = redactUrlCredentials(input);
    if (!/^[a-z]+:\/\//i.test(input)) return `oci://${shown}`;
    if (/^https?:\/\//i.test(input)) return `oci://${shown.replace(/^https?:\/\//i, "")}`;
    return undefined;
}

/**
 * Parses and validates an `oci://` URL the way `flux push artifact --url` takes it. Rejects other
 * schemes (`http://`, `https://`, none), credentials in the URL, query strings, bad hosts or ports,
 * upper case or `..`/empty repository segments, and malformed tags or digests.
 */
export function parseOciUrl(input: string): OciReference {
    if (typeof input !== "string" || input.length === 0) bad(String(input), "empty");
    if (/^https?:\/\//i.test(input)) bad(input, "use oci://HOST/REPOSITORY, not an http(s):// URL");
    if (!input.startsWith("oci://")) bad(input, "must start with oci://");
    const rest = input.slice("oci://".length);
    if (/[?#\\\s%]/.test(rest)) bad(input, "query strings, fragments, backslashes, spaces and %-escapes are not allowed");
    const slash = rest.indexOf("/");
    if (slash < 0) bad(input, "missing repository path after the host");
    const hostPart = rest.slice(0, slash);
    let pathPart = rest.slice(slash + 1);
    // A password may contain "/", which moves the host split into it: any "@" before the last "/"
    // is user info, never part of a repository path.
    if (hostPart.includes("@") || rest.slice(0, rest.lastIndexOf("/")).includes("@")) {
        bad(input, "credentials in the URL are not allowed", "credentials-in-url");
    }

    let hostname: string;
    let portText: string | undefined;
    if (hostPart.startsWith("[")) {
        const close = hostPart.indexOf("]");
        if (close < 0) bad(input, "unterminated IPv6 address");
        hostname = hostPart.slice(1, close);
        if (!/^[0-9a-fA-F:.]+$/.test(hostname) || !hostname.includes(":")) bad(input, `bad IPv6 address "${hostname}"`);
        const after = hostPart.slice(close + 1);
        if (after !== "" && !after.startsWith(":")) bad(input, "bad characters after IPv6 address");
        portText = after ? after.slice(1) : undefined;
    } else {
        const parts = hostPart.split(":");
        if (parts.length > 2) bad(input, "IPv6 addresses must be in brackets, e.g. oci://[::1]:5000/repo");
        hostname = parts[0] ?? "";
        portText = parts[1];
        const looksNumeric = /^[\d.]+$/.test(hostname);
        if (looksNumeric ? !IPV4.test(hostname) : !HOSTNAME.test(hostname)) bad(input, `bad host "${hostname}"`);
    }
    let port: number | undefined;
    if (portText !== undefined) {
        if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
            bad(input, `bad port "${portText}"`);
        }
        port = Number(portText);
    }

    let tag: string | undefined;
    let digest: string | undefined;
    const at = pathPart.indexOf("@");
    if (at >= 0) {
        digest = pathPart.slice(at + 1);
        pathPart = pathPart.slice(0, at);
        if (!isValidDigest(digest)) bad(input, `bad digest "${digest}"`);
    }
    const lastSlash = pathPart.lastIndexOf("/");
    const colon = pathPart.indexOf(":", lastSlash + 1);
    if (colon >= 0) {
        tag = pathPart.slice(colon + 1);
        pathPart = pathPart.slice(0, colon);
        if (!isValidTag(tag)) bad(input, `bad tag "${tag}"`);
    }
    if (pathPart.length === 0) bad(input, "missing repository path after the host");
    const segments = pathPart.split("/");
    for (const seg of segments) {
        if (seg === "" ) bad(input, "empty path segment in repository");
        if (seg === "." || seg === "..") bad(input, `path traversal segment "${seg}" in repository`);
        if (seg !== seg.toLowerCase()) bad(input, `repository must be lower case ("${seg}")`);
        if (!COMPONENT.test(seg)) bad(input, `bad repository segment "${seg}"`);
    }
    if (hostPart.length + 1 + pathPart.length > 255) bad(input, "reference longer than 255 characters");
    const host = hostname.includes(":") ? `[${hostname}]${port ? `:${port}` : ""}` : `${hostname}${port ? `:${port}` : ""}`;
    return {
        url: `oci://${host}/${pathPart}`,
        host: host.toLowerCase(),
        hostname: hostname.toLowerCase(),
        port,
        repository: pathPart,
        tag,
        digest,
        loopback: isLoopback(hostname),
    };
}
