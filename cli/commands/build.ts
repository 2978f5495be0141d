/** `artifact build`, and the build step `push` shares: the policy loader and the layer writer. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { buildArtifact } from "../../lib/artifact/build";
import { loadPolicyDir } from "../../lib/policies/loader";
import { requireDir, str, type Flags, type Io } from "../common";

/**
 * Loads and builds the artifact. Without `outFile` the layer goes to a temp dir of ours, and
 * `dispose()` removes that dir (not just the file), so repeated runs leave nothing behind.
 */
export async function build(f: Flags, outFile?: string) {
    const dir = requireDir(str(f, "path")!, "path");
    const set = await loadPolicyDir(dir);
    const tmp = outFile ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), "artifact-cli-"));
    const dispose = () => {
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    };
    try {
        const built = await buildArtifact(set, {
            source: str(f, "source"),
            revision: str(f, "revision"),
            created: str(f, "created"),
            outFile: outFile ?? path.join(tmp!, "artifact.tgz"),
        });
        return { set, built, dispose };
    } catch (e) {
        dispose();
        throw e;
    }
}

export async function run(f: Flags, io: Io): Promise<number> {
    const out = str(f, "out");
    const { set, built, dispose } = await build(f, out ? path.resolve(out) : undefined);
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
            ...(out ? { out: path.resolve(out) } : {}),
        };
        if (f.output === "json") io.out(JSON.stringify(info, null, 2) + "\n");
        else {
            io.out(`✔ built artifact from ${set.root}: ${set.policies.length} policies in ${set.files.length} files\n`);
            io.out(`  digest:       ${info.digest}\n  layer digest: ${info.layerDigest} (${info.layerSize} bytes)\n`);
            if (out) io.out(`  layer file:   ${info.out}\n`);
        }
    } finally {
        dispose();
    }
    return 0;
}
