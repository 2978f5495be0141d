/**
 * The `artifact` section: where the artifact comes from (built from the policy directory, or
 * promoted from another stack), the tag, its semver contract with Flux, and whether Flux pins the digest.
 */
import { checkTagAgainstRange, parseFluxRange, parseFluxVersion } from "../semver";
import { DEFAULTS } from "./defaults";
import { parseArtifactSource, type ArtifactSource, type PromotionConfig } from "./promotion";
import type { ConfigReader } from "./reader";

export interface ArtifactConfig {
    /** `build`: this stack builds the policy directory; `promote`: it copies another stack's artifact, byte for byte. */
    source: ArtifactSource;
    /** With `promote`: the source stack and how to reach its registry. */
    promotion?: PromotionConfig;
    /** Policy directory, absolute (unused with `promote`). */
    policiesPath: string;
    tag: string;
    /** The OCIRepository's `ref.semver` range. */
    semverRange: string;
    /** Move an existing tag to different content. */
    force: boolean;
    /** The OCIRepository pulls `ref.digest` (exactly these bytes) instead of selecting by `ref.semver`. */
    pinDigest: boolean;
}

/** The message of what `fn` throws, else what it returns. */
function attempt<T>(fn: () => T): T | string {
    try {
        return fn();
    } catch (e) {
        return (e as Error).message;
    }
}

/** The tag and range with Flux's own parsing rules: the tag must be one Flux would select. */
export function parseArtifact(reader: ConfigReader, stack: string): ArtifactConfig {
    const { source, promotion } = parseArtifactSource(reader, stack);
    const tag = reader.str("artifactTag") ?? DEFAULTS.artifactTag;
    const semverRange = reader.str("semverRange") ?? DEFAULTS.semverRange;
    const version = attempt(() => parseFluxVersion(tag));
    const range = attempt(() => parseFluxRange(semverRange));
    if (typeof version === "string") reader.bad("artifactTag", tag, `${version} (Flux's ref.semver only selects semver tags)`);
    if (typeof range === "string") reader.bad("semverRange", semverRange, range);
    if (typeof version !== "string" && typeof range !== "string") {
        const checked = attempt(() => checkTagAgainstRange(tag, semverRange));
        if (checked !== version.version) {
            const { prefix } = reader;
            reader.problem(
                `${prefix}artifactTag = "${tag}" does not satisfy ${prefix}semverRange = "${semverRange}": Flux would never select this artifact; ` +
                    `bump the tag into the range or widen the range (${checked})`,
            );
        }
    }
    return {
        source,
        promotion,
        policiesPath: reader.resolvePath(reader.str("policiesPath") ?? DEFAULTS.policiesPath),
        tag,
        semverRange,
        force: reader.bool("forcePush", false),
        pinDigest: reader.bool("pinDigest", DEFAULTS.pinDigest),
    };
}
