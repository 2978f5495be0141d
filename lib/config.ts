/**
 * Stack configuration: every key this program reads, its default, and its validation.
 *
 * Pure module (no Pulumi import) so that every rule is tested directly. `index.ts` hands it the
 * stack's raw config (`pulumi.runtime.allConfig()`, which holds decrypted values) and wraps the
 * secret ones back into `pulumi.secret` before anything else sees them. Error messages name the
 * key, the offending value (never for secret keys) and the fix, and all errors are reported at
 * once so one `pulumi preview` shows everything that needs fixing.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as semver from "semver";
import { checkTagAgainstRange, parseFluxRange, parseFluxVersion } from "./semver";
import { isLoopback, parseOciUrl as parseOciReference, redactUrlCredentials, type OciReference } from "./oci/reference";

export type Enforcement = "audit" | "enforce";

/** A kind cluster created and deleted by the stack (dev on a laptop). */
export interface KindClusterConfig {
    mode: "kind";
    /** kind cluster name: `policy-stack-<stack>` unless set. */
    name: string;
    /** kind node image (decides the Kubernetes version). */
    nodeImage: string;
}

/** A cluster that exists already (staging, prod). */
export interface ExistingClusterConfig {
    mode: "existing";
    /** Kubeconfig contents (a secret). When absent the ambient kubeconfig ($KUBECONFIG or ~/.kube/config) is used. */
    kubeconfig?: string;
    /** Context inside the kubeconfig; defaults to its current context. */
    context?: string;
}

export type ClusterConfig = KindClusterConfig | ExistingClusterConfig;

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

export interface StackConfig {
    stack: string;
    cluster: ClusterConfig;
    registry: RegistryConfig;
    artifact: {
        /** Policy directory, absolute. */
        policiesPath: string;
        tag: string;
        /** The OCIRepository's `ref.semver` range. */
        semverRange: string;
        /** Move an existing tag to different content. */
        force: boolean;
    };
    enforcement: Enforcement;
    flux: {
        version: string;
        /** URL or absolute local path of the release `install.yaml`. */
        installManifest: string;
        namespace: string;
        /** OCIRepository/Kustomization reconcile interval. */
        interval: string;
        /** Kustomization `spec.timeout` and how long `pulumi up` waits for Ready. */
        reconcileTimeout: string;
        /** Name of the OCIRepository and Kustomization. */
        sourceName: string;
    };
    kyverno: {
        /** Chart version (ignored for a local chart path, whose Chart.yaml decides). */
        chartVersion: string;
        /** Helm repository URL, or undefined for a local chart. */
        repository?: string;
        /** Chart name in the repository, or absolute path of a local chart. */
        chart: string;
        namespace: string;
    };
}

/** Keys that hold secrets: their values never appear in error messages. */
export const SECRET_KEYS = new Set(["registryPassword", "kubeconfig"]);

/** Defaults that point at the latest upstream releases. */
export const DEFAULTS = {
    kindNodeImage: "kindest/node:v1.34.0",
    localRegistryPort: 5001,
    localRegistryImage: "registry:2",
    localRegistryName: "kind-registry",
    repository: "kyverno-policies",
    artifactTag: "1.0.0",
    semverRange: ">=1.0.0",
    policiesPath: "policies",
    enforcement: "audit" as Enforcement,
    fluxVersion: "v2.9.4",
    fluxNamespace: "flux-system",
    fluxInterval: "1m",
    reconcileTimeout: "5m",
    sourceName: "kyverno-policies",
    kyvernoChartVersion: "3.9.1",
    kyvernoRepository: "https://kyverno.github.io/kyverno/",
    kyvernoNamespace: "kyverno",
} as const;

/** Every key the program reads, with a one-line description (used for "unknown key" hints and the README). */
export const KNOWN_KEYS: Record<string, string> = {
    clusterMode: "kind | existing",
    kindClusterName: "kind cluster name",
    kindNodeImage: "kind node image",
    kubeconfig: "kubeconfig contents for an existing cluster (secret)",
    kubeContext: "kubeconfig context for an existing cluster",
    registryMode: "local | external",
    localRegistryPort: "host port of the local registry",
    localRegistryImage: "image of the local registry container",
    registryUrl: "push address, oci://host[:port]/repository",
    registryPullUrl: "pull address as seen from the cluster, oci://…",
    registryUsername: "registry user",
    registryPassword: "registry password (secret)",
    registryPrivate: "the registry needs credentials (true | false)",
    registryInsecure: "plain HTTP to the registry (true | false)",
    registryCaFile: "PEM CA bundle for the push",
    artifactTag: "semver tag of the artifact",
    semverRange: "OCIRepository ref.semver range",
    policiesPath: "policy directory",
    forcePush: "move an existing tag to new content (true | false)",
    enforcement: "audit | enforce",
    fluxVersion: "Flux release, vX.Y.Z",
    fluxInstallManifest: "URL or file of Flux's install.yaml",
    fluxInterval: "reconcile interval (Go duration)",
    reconcileTimeout: "how long Flux may take to apply (Go duration)",
    sourceName: "name of the OCIRepository and Kustomization",
    kyvernoChartVersion: "Kyverno Helm chart version",
    kyvernoChart: "Kyverno chart: a local chart directory, or a chart name in kyvernoRepository",
    kyvernoRepository: "Kyverno Helm repository URL",
};

export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(
            `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

export interface ParseContext {
    /** Pulumi project name: config keys live under `<project>:`. */
    project: string;
    stack: string;
    /** Directory relative paths in config are resolved against (the project directory). */
    projectDir: string;
}

const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

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
        const shown = redactUrlCredentials(value);
        const hint = !/^[a-z]+:\/\//i.test(value) ? ` (write oci://${shown})` : /^https?:\/\//i.test(value) ? ` (write oci://${shown.replace(/^https?:\/\//i, "")})` : "";
        return `${(e as Error).message}${hint}`;
    }
    if (ref.tag !== undefined || ref.digest !== undefined) return "must not carry a tag or digest (set the tag with artifactTag)";
    return { host: ref.host, repository: ref.repository };
}

/** True for registries that live on this machine, which are plain HTTP by default. */
export function isLoopbackHost(host: string): boolean {
    return isLoopback(host.replace(/:\d+$/, "").replace(/^\[|\]$/g, ""));
}

/**
 * Validates the raw stack config and applies defaults. Throws one ConfigError listing every
 * problem; returns a fully-resolved StackConfig otherwise.
 */
export function parseStackConfig(raw: Record<string, string | undefined>, ctx: ParseContext): StackConfig {
    const problems: string[] = [];
    const prefix = `${ctx.project}:`;
    const values: Record<string, string> = {};
    for (const [fullKey, value] of Object.entries(raw)) {
        if (!fullKey.startsWith(prefix) || value === undefined) continue;
        const key = fullKey.slice(prefix.length);
        if (!(key in KNOWN_KEYS)) {
            const hint = suggest(key, Object.keys(KNOWN_KEYS));
            problems.push(`${fullKey}: unknown key${hint ? `; did you mean ${prefix}${hint}?` : ""} (remove it with 'pulumi config rm ${fullKey}')`);
            continue;
        }
        values[key] = value;
    }
    // URLs (registryUrl, fluxInstallManifest, kyvernoRepository) may carry user:password@: never echo it.
    const show = (key: string, value: string) => (SECRET_KEYS.has(key) ? "[secret]" : JSON.stringify(redactUrlCredentials(value)));
    const bad = (key: string, value: string, fix: string) => problems.push(`${prefix}${key} = ${show(key, value)}: ${fix}`);
    const str = (key: string) => {
        const v = values[key];
        return v === undefined || v === "" ? undefined : v;
    };
    const oneOf = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
        const v = str(key);
        if (v === undefined) return fallback;
        if ((allowed as readonly string[]).includes(v)) return v as T;
        bad(key, v, `must be one of ${allowed.join(" | ")} (set it with 'pulumi config set ${key} ${fallback}')`);
        return fallback;
    };
    const bool = (key: string, fallback: boolean): boolean => {
        const v = str(key);
        if (v === undefined) return fallback;
        if (v === "true" || v === "false") return v === "true";
        bad(key, v, "must be true or false");
        return fallback;
    };
    const duration = (key: string, fallback: string): string => {
        const v = str(key) ?? fallback;
        if (!GO_DURATION.test(v)) bad(key, v, 'must be a Go duration such as "30s", "5m" or "1h30m"');
        return v;
    };
    const port = (key: string, fallback: number): number => {
        const v = str(key);
        if (v === undefined) return fallback;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 65535) bad(key, v, "must be a TCP port between 1 and 65535");
        return n;
    };
    const resolvePath = (p: string) => (path.isAbsolute(p) ? p : path.resolve(ctx.projectDir, p));

    // Cluster.
    const clusterMode = oneOf("clusterMode", ["kind", "existing"] as const, "kind");
    let cluster: ClusterConfig;
    if (clusterMode === "kind") {
        const name = str("kindClusterName") ?? `policy-stack-${ctx.stack}`.toLowerCase().replace(/[^a-z0-9-]/g, "-");
        if (!DNS_LABEL.test(name) || name.length > 50) {
            bad("kindClusterName", name, "must be a lowercase DNS label of at most 50 characters (kind names its Docker containers after it)");
        }
        const nodeImage = str("kindNodeImage") ?? DEFAULTS.kindNodeImage;
        if (!/^[a-z0-9.\-/:_@]+$/i.test(nodeImage) || !nodeImage.includes(":")) {
            bad("kindNodeImage", nodeImage, "must be an image reference with a tag, e.g. kindest/node:v1.34.0");
        }
        for (const key of ["kubeconfig", "kubeContext"]) {
            if (str(key) !== undefined) bad(key, values[key], "only applies to clusterMode existing (remove it, or set clusterMode existing)");
        }
        cluster = { mode: "kind", name, nodeImage };
    } else {
        for (const key of ["kindClusterName", "kindNodeImage"]) {
            if (str(key) !== undefined) bad(key, values[key], "only applies to clusterMode kind (remove it)");
        }
        cluster = { mode: "existing", kubeconfig: str("kubeconfig"), context: str("kubeContext") };
    }

    // Registry.
    const registryMode = oneOf("registryMode", ["local", "external"] as const, clusterMode === "kind" ? "local" : "external");
    let registry: RegistryConfig;
    if (registryMode === "local") {
        if (clusterMode !== "kind") {
            bad("registryMode", "local", "the local registry only works beside a kind cluster; set registryMode external and registryUrl");
        }
        for (const key of ["registryUrl", "registryPullUrl", "registryUsername", "registryPassword", "registryCaFile"]) {
            if (str(key) !== undefined) bad(key, values[key], "only applies to registryMode external (remove it, or set registryMode external)");
        }
        const hostPort = port("localRegistryPort", DEFAULTS.localRegistryPort);
        const containerName = DEFAULTS.localRegistryName;
        const repository = DEFAULTS.repository;
        registry = {
            mode: "local",
            containerName,
            hostPort,
            repository,
            pushUrl: `oci://localhost:${hostPort}/${repository}`,
            pullUrl: `oci://${containerName}:5000/${repository}`,
            insecure: true,
            image: str("localRegistryImage") ?? DEFAULTS.localRegistryImage,
        };
    } else {
        const pushUrl = str("registryUrl");
        let pushHost = "";
        if (pushUrl === undefined) {
            problems.push(`${prefix}registryUrl: required for registryMode external (e.g. 'pulumi config set registryUrl oci://ghcr.io/my-org/kyverno-policies')`);
        } else {
            const parsed = parseOciUrl(pushUrl);
            if (typeof parsed === "string") bad("registryUrl", pushUrl, parsed);
            else pushHost = parsed.host;
        }
        const pullUrl = str("registryPullUrl") ?? pushUrl ?? "";
        if (str("registryPullUrl") !== undefined) {
            const parsed = parseOciUrl(pullUrl);
            if (typeof parsed === "string") bad("registryPullUrl", pullUrl, parsed);
        }
        const username = str("registryUsername");
        const password = str("registryPassword");
        const isPrivate = bool("registryPrivate", username !== undefined);
        if (isPrivate && username === undefined) {
            problems.push(`${prefix}registryUsername: required because the registry is private (registryPrivate true); set it, or set registryPrivate false`);
        }
        if ((isPrivate || username !== undefined) && password === undefined) {
            problems.push(`${prefix}registryPassword: required for a private registry; set it with 'pulumi config set --secret registryPassword <token>'`);
        }
        if (!isPrivate && password !== undefined && username === undefined) {
            problems.push(`${prefix}registryPassword: set, but registryUsername is not; set both or neither`);
        }
        if (username !== undefined && username.includes(":")) {
            bad("registryUsername", username, "must not contain ':' (the Basic auth separator)");
        }
        const caFile = str("registryCaFile");
        if (caFile !== undefined) {
            let pem = "";
            try {
                pem = fs.readFileSync(resolvePath(caFile), "utf8");
            } catch {
                bad("registryCaFile", caFile, "cannot be read: give the path of a PEM CA bundle (relative paths start at the project directory)");
            }
            if (pem && !pem.includes("-----BEGIN CERTIFICATE-----")) bad("registryCaFile", caFile, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        registry = {
            mode: "external",
            pushUrl: pushUrl ?? "",
            pullUrl,
            insecure: bool("registryInsecure", isLoopbackHost(pushHost)),
            username,
            password,
            caFile: caFile === undefined ? undefined : resolvePath(caFile),
        };
    }

    // Artifact and its semver contract with the OCIRepository, with Flux's own parsing rules.
    const tag = str("artifactTag") ?? DEFAULTS.artifactTag;
    const semverRange = str("semverRange") ?? DEFAULTS.semverRange;
    const attempt = <T>(fn: () => T): T | string => {
        try {
            return fn();
        } catch (e) {
            return (e as Error).message;
        }
    };
    const version = attempt(() => parseFluxVersion(tag));
    const range = attempt(() => parseFluxRange(semverRange));
    if (typeof version === "string") bad("artifactTag", tag, `${version} (Flux's ref.semver only selects semver tags)`);
    if (typeof range === "string") bad("semverRange", semverRange, range);
    if (typeof version !== "string" && typeof range !== "string") {
        const checked = attempt(() => checkTagAgainstRange(tag, semverRange));
        if (checked !== version.version) {
            problems.push(
                `${prefix}artifactTag = "${tag}" does not satisfy ${prefix}semverRange = "${semverRange}": Flux would never select this artifact; ` +
                    `bump the tag into the range or widen the range (${checked})`,
            );
        }
    }

    // Flux.
    const fluxVersion = str("fluxVersion") ?? DEFAULTS.fluxVersion;
    if (!/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(fluxVersion)) {
        bad("fluxVersion", fluxVersion, "must be a Flux release tag such as v2.9.4");
    }
    const manifestRaw = str("fluxInstallManifest");
    let installManifest = `https://github.com/fluxcd/flux2/releases/download/${fluxVersion}/install.yaml`;
    if (manifestRaw !== undefined) {
        if (/^https:\/\//.test(manifestRaw)) installManifest = manifestRaw;
        else if (/^[a-z]+:\/\//i.test(manifestRaw)) bad("fluxInstallManifest", manifestRaw, "must be an https:// URL or a local file path");
        else installManifest = resolvePath(manifestRaw);
    }
    const sourceName = str("sourceName") ?? DEFAULTS.sourceName;
    if (!DNS_LABEL.test(sourceName)) bad("sourceName", sourceName, "must be a lowercase DNS label (a Kubernetes object name)");

    // Kyverno.
    const kyvernoChartVersion = str("kyvernoChartVersion") ?? DEFAULTS.kyvernoChartVersion;
    if (!semver.valid(kyvernoChartVersion)) bad("kyvernoChartVersion", kyvernoChartVersion, "must be a chart version such as 3.9.1");
    const chartRaw = str("kyvernoChart");
    const repositoryRaw = str("kyvernoRepository");
    let kyverno: StackConfig["kyverno"];
    const looksLikePath = chartRaw !== undefined && (chartRaw.includes("/") || chartRaw.startsWith("."));
    if (looksLikePath) {
        if (repositoryRaw !== undefined) bad("kyvernoRepository", repositoryRaw, "does not apply to a local chart path in kyvernoChart (remove one of them)");
        kyverno = { chartVersion: kyvernoChartVersion, chart: resolvePath(chartRaw), namespace: DEFAULTS.kyvernoNamespace };
    } else {
        const repository = repositoryRaw ?? DEFAULTS.kyvernoRepository;
        if (!/^(https|oci):\/\//.test(repository)) bad("kyvernoRepository", repository, "must be an https:// or oci:// Helm repository URL");
        kyverno = { chartVersion: kyvernoChartVersion, repository, chart: chartRaw ?? "kyverno", namespace: DEFAULTS.kyvernoNamespace };
    }

    const config: StackConfig = {
        stack: ctx.stack,
        cluster,
        registry,
        artifact: {
            policiesPath: resolvePath(str("policiesPath") ?? DEFAULTS.policiesPath),
            tag,
            semverRange,
            force: bool("forcePush", false),
        },
        enforcement: oneOf("enforcement", ["audit", "enforce"] as const, DEFAULTS.enforcement),
        flux: {
            version: fluxVersion,
            installManifest,
            namespace: DEFAULTS.fluxNamespace,
            interval: duration("fluxInterval", DEFAULTS.fluxInterval),
            reconcileTimeout: duration("reconcileTimeout", DEFAULTS.reconcileTimeout),
            sourceName,
        },
        kyverno,
    };
    if (problems.length > 0) throw new ConfigError(problems);
    return config;
}

/** Converts a validated Go duration to whole seconds (rounded up). */
export function durationSeconds(duration: string): number {
    const units: Record<string, number> = { ns: 1e-9, us: 1e-6, "µs": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
    let total = 0;
    for (const m of duration.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * units[m[2]];
    return Math.ceil(total);
}

/** Closest known key within edit distance 3, for "did you mean" hints. */
function suggest(key: string, known: string[]): string | undefined {
    let best: { key: string; distance: number } | undefined;
    for (const candidate of known) {
        const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
        if (d <= 3 && (!best || d < best.distance)) best = { key: candidate, distance: d };
    }
    return best?.key;
}

function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let previous = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const current = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
            previous = current;
        }
    }
    return row[b.length];
}
