/** `artifact diff`: pull, load both trees, compare policy by policy. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { diffPolicySets, formatDiff, summarise, type PolicyDiff } from "../../lib/diff";
import { loadPolicyDir } from "../../lib/policies/loader";
import { requireDir, str, type Flags, type Io } from "../common";
import { pullInto } from "./pull";

/** True when any policy was added, removed or changed. */
function hasDifferences(d: PolicyDiff): boolean {
    return d.added.length + d.removed.length + d.changed.length > 0;
}

export async function run(f: Flags, io: Io): Promise<number> {
    const local = requireDir(str(f, "path")!, "path");
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "artifact-diff-"));
    try {
        const { pulled, tag } = await pullInto(f, io, tmp);
        const remoteSet = await loadPolicyDir(tmp);
        const localSet = await loadPolicyDir(local);
        // Remote is "before", local is "after": the report reads as what a push would change.
        const diff = diffPolicySets(remoteSet.policies.map(summarise), localSet.policies.map(summarise));
        const differs = hasDifferences(diff);
        if (differs) io.out(`diff ${pulled.url}:${tag} (${pulled.manifestDigest}) -> ${local}\n${formatDiff(diff).text}\n`);
        else io.out(`✔ no differences between ${local} and ${pulled.url}:${tag} (${pulled.manifestDigest})\n`);
        return differs ? 1 : 0;
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}
