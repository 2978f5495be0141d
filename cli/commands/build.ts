/** `artifact build`: the policy loader and the layer writer, nothing of the registry. */
import * as path from "node:path";

import { buildArtifact, buildInTempDir, type TemporaryBuild } from "../../lib/artifact/build";
import { loadPolicyDir } from "../../lib/policies/loader";
import type { PolicyInfo, PolicySet } from "../../lib/policies/types";
import { requireDir, str, type Flags, type Io } from "../common";

/** Builds into `--out` when given (kept), else into a temp directory that `dispose` removes. */
async function build(f: Flags, set: PolicySet<PolicyInfo>, out: string | undefined): Promise<TemporaryBuild> {
    const opts = { source: str(f, "source"), revision: str(f, "revision"), created: str(f, "created") };
    if (out === undefined) return buildInTempDir(set, opts);
    return { built: await buildArtifact(set, { ...opts, outFile: out }), dispose: async () => {} };
}

export async function run(f: Flags, io: Io): Promise<number> {
    const dir = requireDir(str(f, "path")!, "path");
    const out = str(f, "out") === undefined ? undefined : path.resolve(str(f, "out")!);
    // Only the files ship and only counts are printed: the parsed objects are not kept.
    const set = await loadPolicyDir(dir, { documents: false });
    const { built, dispose } = await build(f, set, out);
    try {
        const info = {
            digest: built.manifestDigest,
            layerDigest: built.layer.digest,
            layerSize: built.layer.size,
            configDigest: built.configDescriptor.digest,
            mediaType: built.layer.mediaType,
            annotations: built.annotations,
            files: set.files.length,
            policies: set.policies.length,
            ...(out ? { out } : {}),
        };
        if (f.output === "json") io.out(JSON.stringify(info, null, 2) + "\n");
        else {
            io.out(`✔ built artifact from ${set.root}: ${set.policies.length} policies in ${set.files.length} files\n`);
            io.out(`  digest:       ${info.digest}\n  layer digest: ${info.layerDigest} (${info.layerSize} bytes)\n`);
            if (out) io.out(`  layer file:   ${info.out}\n`);
        }
    } finally {
        await dispose();
    }
    return 0;
}
