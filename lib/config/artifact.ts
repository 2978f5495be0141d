/** The `artifact` section: the policy directory, the tag, and its semver contract with Flux. */
import { checkTagAgainstRange, parseFluxRange, parseFluxVersion } from "../semver";
import { DEFAULTS } from "./defaults";
import type { ConfigReader } from "./reader";

export interface ArtifactConfig {
    /** Policy directory, absolute. */
    policiesPath: string;
    tag: string;
    /** The OCIRepository's `ref.semver` range. */
    semverRange: string;
    /** Move an existing tag to different content. */
    force: boolean;
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
export function parseArtifact(reader: ConfigReader): ArtifactConfig {
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
        policiesPath: reader.resolvePath(reader.str("policiesPath") ?? DEFAULTS.policiesPath),
        tag,
        semverRange,
        force: reader.bool("forcePush", false),
    };
}
