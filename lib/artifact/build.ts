/**
 * Builds the Flux OCI artifact for a policy set: a reproducible tar+gzip layer on disk, the config
 * blob and the image manifest, byte-compatible in layout with what `flux push artifact` produces
 * (fluxcd/pkg `oci.Client.Push` on go-containerregistry).
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as zlib from "node:zlib";
import { sha256Digest, sha256Hasher } from "../oci/digest";
import { loadPolicyDir, type LoadPolicyOptions } from "../policies/loader";
import type { PolicyFile, PolicyInfo, PolicySet } from "../policies/types";
import { detectGit, fluxRevision, type GitInfo } from "./git";
import { layerEntriesFor, tarEntries } from "./tar";

export const OCI_MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";
/** `oci.CanonicalConfigMediaType` in fluxcd/pkg. */
export const FLUX_CONFIG_MEDIA_TYPE = "application/vnd.cncf.flux.config.v1+json";
/** `oci.CanonicalContentMediaType` in fluxcd/pkg. */
export const FLUX_CONTENT_MEDIA_TYPE = "application/vnd.cncf.flux.content.v1.tar+gzip";
export const ANNOTATION_SOURCE = "org.opencontainers.image.source";
export const ANNOTATION_REVISION = "org.opencontainers.image.revision";
export const ANNOTATION_CREATED = "org.opencontainers.image.created";
/** Created time used when neither an explicit value nor a git commit is available. */
export const EPOCH_CREATED = "1970-01-01T00:00:00Z";
/** Fixed deflate settings: the layer digest depends on them. */
export const GZIP_OPTIONS: zlib.ZlibOptions = { level: 6, memLevel: 8, windowBits: 15, strategy: zlib.constants.Z_DEFAULT_STRATEGY };

export interface BlobRef {
    mediaType: string;
    digest: string;
    size: number;
}

export interface BuiltArtifact {
    manifest: Buffer;
    /** "sha256:…" of `manifest`. */
    manifestDigest: string;
    config: Buffer;
    configDescriptor: BlobRef;
    /** The .tgz on disk (a temp file unless `outFile` was given). */
    layer: BlobRef & { path: string };
    /** "sha256:…" of the uncompressed tar (the OCI diff_id, also in the config). */
    diffId: string;
    annotations: Record<string, string>;
    /** The set's policies (without their parsed objects when it was loaded with `documents: false`). */
    policies: PolicyInfo[];
    /** Files in the layer, in archive order; sizes and digests are of the files on disk (text files ship with LF). */
    files: PolicyFile[];
    /** Git metadata used for the annotations, when the directory is in a checkout. */
    git?: GitInfo;
}

export interface BuildArtifactOptions {
    /** `org.opencontainers.image.source`; default: the checkout's `origin` URL (credentials removed), else "". */
    source?: string;
    /** `org.opencontainers.image.revision`; default: `<branch|tag>@sha1:<commit>` from git, else "". */
    revision?: string;
    /** `org.opencontainers.image.created` (RFC3339); default: HEAD's commit time, else 1970-01-01T00:00:00Z. */
    created?: string;
    /** Where to write the layer; default: a new temp directory. */
    outFile?: string;
    /** Set false to skip git detection (annotations then come only from the options). */
    git?: boolean;
    /** Options for loading when a directory is given. */
    load?: LoadPolicyOptions;
}

/**
 * Go's encoding/json string escaping: like JSON.stringify, plus `<`, `>`, `&`, U+2028 and U+2029
 * as \u escapes. Needed so manifest bytes (and digests) equal go-containerregistry's.
 */
export function goJsonString(s: string): string {
    return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Validates an RFC3339 timestamp and returns how Go's time.Time marshals it after
 * `time.Parse(time.RFC3339, s)` (RFC3339Nano: fraction without trailing zeros, "+00:00" as "Z"),
 * which is what Flux puts in the config's `created`.
 */
export function goTimeJson(s: string): string {
    const m = RFC3339.exec(s);
    if (!m) throw new Error(`invalid created timestamp "${s}": use RFC3339, e.g. 2024-01-02T03:04:05Z`);
    const [, y, mo, d, h, mi, sec, frac, zone] = m;
    const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${sec}Z`);
    if (Number.isNaN(date.getTime()) || date.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) {
        throw new Error(`invalid created timestamp "${s}": not a real date/time`);
    }
    let f = (frac ?? "").replace(/0+$/, "");
    if (f === ".") f = "";
    if (f.length > 10) f = f.slice(0, 10).replace(/0+$/, ""); // Go keeps nanoseconds
    const z = zone === "+00:00" || zone === "-00:00" ? "Z" : zone;
    return `${y}-${mo}-${d}T${h}:${mi}:${sec}${f}${z}`;
}

/**
 * The config blob Flux writes: go-containerregistry's ConfigFile for an empty image with one layer
 * appended and `created` set (fluxcd/pkg sets it since 2026; older Flux left the zero time).
 */
export function buildConfigBlob(created: string, diffId: string): Buffer {
    return Buffer.from(
        `{"architecture":"","created":${goJsonString(goTimeJson(created))},"history":[{"created":"0001-01-01T00:00:00Z"}],` +
            `"os":"","rootfs":{"type":"layers","diff_ids":[${goJsonString(diffId)}]},"config":{}}`,
    );
}

function descriptorJson(d: BlobRef): string {
    return `{"mediaType":${goJsonString(d.mediaType)},"size":${d.size},"digest":${goJsonString(d.digest)}}`;
}

/** The image manifest exactly as go-containerregistry serialises it (field order, sorted annotations). */
export function buildManifestBlob(config: BlobRef, layers: BlobRef[], annotations: Record<string, string>): Buffer {
    const keys = Object.keys(annotations).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const ann = keys.length ? `,"annotations":{${keys.map((k) => `${goJsonString(k)}:${goJsonString(annotations[k])}`).join(",")}}` : "";
    return Buffer.from(
        `{"schemaVersion":2,"mediaType":${goJsonString(OCI_MANIFEST_MEDIA_TYPE)},"config":${descriptorJson(config)},` +
            `"layers":[${layers.map(descriptorJson).join(",")}]${ann}}`,
    );
}

class HashingCounter extends Transform {
    private readonly hash = sha256Hasher();
    size = 0;
    digest = "";
    private headerPatched = false;

    constructor(private readonly patchGzipOs = false) {
        super();
    }

    override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
        // zlib writes the build platform's OS code (3 on Unix, 10 on Windows) into byte 9 of the gzip
        // header; Go writes 255 ("unknown"). Pin it so the layer digest does not depend on the OS.
        if (this.patchGzipOs && !this.headerPatched && this.size + chunk.length > 9) {
            chunk = Buffer.from(chunk);
            chunk[9 - this.size] = 0xff;
            this.headerPatched = true;
        }
        this.hash.update(chunk);
        this.size += chunk.length;
        cb(null, chunk);
    }

    override _flush(cb: TransformCallback): void {
        this.digest = this.hash.digest();
        cb();
    }
}

/**
 * Writes the tar+gzip layer for `files` to `outFile` (atomically: temp file then rename), hashing
 * on the way so nothing is held in memory.
 */
export async function writeLayer(files: PolicyFile[], outFile: string): Promise<{ digest: string; size: number; diffId: string }> {
    const tmp = `${outFile}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    const tarHash = new HashingCounter();
    const gzHash = new HashingCounter(true);
    try {
        await pipeline(
            Readable.from(tarEntries(layerEntriesFor(files))),
            tarHash,
            zlib.createGzip(GZIP_OPTIONS),
            gzHash,
            fs.createWriteStream(tmp, { mode: 0o644 }),
        );
        await fsp.rename(tmp, outFile);
    } catch (e) {
        await fsp.rm(tmp, { force: true });
        throw e;
    }
    return { digest: gzHash.digest, size: gzHash.size, diffId: tarHash.digest };
}

/** A built artifact whose layer sits in a temp directory of its own. */
export interface TemporaryBuild {
    built: BuiltArtifact;
    /** Removes the temp directory, layer included. */
    dispose: () => Promise<void>;
}

/**
 * `buildArtifact` with the layer in a fresh temp directory that `dispose` removes whole: for
 * callers that need the layer only until it is pushed or its digest read.
 */
export async function buildInTempDir(set: PolicySet<PolicyInfo> | string, opts: Omit<BuildArtifactOptions, "outFile"> = {}): Promise<TemporaryBuild> {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "policy-artifact-"));
    const dispose = () => fsp.rm(dir, { recursive: true, force: true });
    try {
        return { built: await buildArtifact(set, { ...opts, outFile: path.join(dir, "artifact.tgz") }), dispose };
    } catch (e) {
        await dispose();
        throw e;
    }
}

/**
 * Builds the artifact for a loaded policy set or a directory (loaded and validated first).
 *
 * Reproducible: the same shipped files give the same layer, config and manifest digests whatever
 * their mtimes, permissions, creation order, checkout location or line endings (text files ship
 * with LF, as git's `text=auto` stores them), as long as source, revision and created are the same
 * (from git they are per-commit).
 *
 * @param set a {@link PolicySet} from `loadPolicyDir`, or a directory path
 * @param opts annotations and output location
 */
export async function buildArtifact(set: PolicySet<PolicyInfo> | string, opts: BuildArtifactOptions = {}): Promise<BuiltArtifact> {
    const ps = typeof set === "string" ? await loadPolicyDir(set, opts.load) : set;
    const gitInfo = opts.git === false ? undefined : await detectGit(ps.root);

    const created = opts.created ?? gitInfo?.commitTime ?? EPOCH_CREATED;
    goTimeJson(created); // validate early, before writing anything
    const annotations: Record<string, string> = {
        [ANNOTATION_CREATED]: created,
        [ANNOTATION_REVISION]: opts.revision ?? (gitInfo ? fluxRevision(gitInfo) : ""),
        [ANNOTATION_SOURCE]: opts.source ?? gitInfo?.remoteUrl ?? "",
    };

    let outFile = opts.outFile;
    if (!outFile) {
        const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "policy-artifact-"));
        outFile = path.join(dir, "artifact.tgz");
    } else {
        outFile = path.resolve(outFile);
        await fsp.mkdir(path.dirname(outFile), { recursive: true });
    }
    const layer = await writeLayer(ps.files, outFile);

    const config = buildConfigBlob(created, layer.diffId);
    const configDescriptor: BlobRef = { mediaType: FLUX_CONFIG_MEDIA_TYPE, digest: sha256Digest(config), size: config.length };
    const layerRef: BlobRef = { mediaType: FLUX_CONTENT_MEDIA_TYPE, digest: layer.digest, size: layer.size };
    const manifest = buildManifestBlob(configDescriptor, [layerRef], annotations);
    return {
        manifest,
        manifestDigest: sha256Digest(manifest),
        config,
        configDescriptor,
        layer: { ...layerRef, path: outFile },
        diffId: layer.diffId,
        annotations,
        policies: ps.policies,
        files: ps.files,
        ...(gitInfo ? { git: gitInfo } : {}),
    };
}

