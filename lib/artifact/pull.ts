/**
 * The pull side of an artifact in one call: the manifest and blobs through lib/oci (every digest
 * checked), then the layer Flux would extract, unpacked safely. The CLI's `pull` and `diff` and
 * the preview's comparison all read artifacts through here.
 */
import type { ClientOptions } from "../oci/client";
import { OciError } from "../oci/errors";
import { pullImage, type Descriptor } from "../oci/pull";
import type { OciStats } from "../oci/stats";
import { extractLayer } from "./extract";

/**
 * The layer source-controller extracts: the first one matching `layerSelector.mediaType`, or the
 * first layer when there is no selector (the OCIRepository this stack creates sets none).
 */
export function fluxLayer<L extends { mediaType: string }>(layers: L[], layerSelector?: { mediaType?: string }): L | undefined {
    const mediaType = layerSelector?.mediaType;
    return mediaType ? layers.find((l) => l.mediaType === mediaType) : layers[0];
}

/** Options of `pullArtifact`: connection options, and a tag or a digest (or either inside `url`). */
export interface PullArtifactOptions extends ClientOptions {
    url: string;
    tag?: string;
    digest?: string;
    /** Directory to extract the content into (created if missing; should be empty). */
    into: string;
}

/** What `pullArtifact` pulled and extracted. */
export interface PulledArtifact {
    /** `oci://host/repository`. */
    url: string;
    repository: string;
    /** Tag or digest that was asked for. */
    reference: string;
    manifestDigest: string;
    /** Manifest annotations (Flux: org.opencontainers.image.source / revision / created). */
    annotations: Record<string, string>;
    /** The layer that was extracted. */
    layer: Descriptor;
    /** Extracted files, relative, in archive order. */
    files: string[];
    stats: OciStats;
}

/** Pulls `url` at a tag or digest and extracts its content layer into `into`; the blobs do not stay. */
export async function pullArtifact(o: PullArtifactOptions): Promise<PulledArtifact> {
    const { into, ...pull } = o;
    const image = await pullImage(pull);
    try {
        const layer = fluxLayer(image.layers);
        if (!layer) throw new OciError("registry", `artifact ${image.url}:${image.reference} has no layers`, { repository: image.repository });
        const files = await extractLayer(layer.path, into);
        const { path: _path, ...descriptor } = layer;
        return {
            url: image.url,
            repository: image.repository,
            reference: image.reference,
            manifestDigest: image.manifestDigest,
            annotations: image.annotations,
            layer: descriptor,
            files,
            stats: image.stats,
        };
    } finally {
        image.cleanup();
    }
}
