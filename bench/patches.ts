/**
 * Part 4b: how many patches the Kustomization of an `enforce` stack carries, from the library the
 * program uses (lib/policies/enforcement.ts: policies whose operations are identical share one
 * patch), for generated trees of 10, 100 and 500 policies, against one patch per policy. Counted,
 * not timed: the figure does not depend on the machine.
 */
import * as path from "node:path";

import { enforcementPatches, perPolicyEnforcementPatches, type FluxPatch } from "../lib/policies/enforcement";
import { loadPolicyDir } from "../lib/policies/loader";
import { generateTree, type Sample } from "./support/trees";

export interface PatchCount {
    policies: number;
    /** Patches of the grouped form the stack ships. */
    patches: number;
    /** One patch per enforceable policy: the form before grouping. */
    per_policy_patches: number;
    /** `spec.patches` as JSON, grouped and per policy. */
    bytes: number;
    per_policy_bytes: number;
}

const size = (patches: FluxPatch[]) => Buffer.byteLength(JSON.stringify(patches.map((p) => ({ target: p.target, patch: p.patch }))));

/** Part 4b: the patch counts of generated trees of `sizes` policies under `enforce`. */
export async function patchCounts(samples: Sample[], work: string, sizes: readonly number[] = [10, 100, 500]): Promise<PatchCount[]> {
    const out: PatchCount[] = [];
    for (const n of sizes) {
        const dir = path.join(work, `patches-${n}`);
        generateTree(samples, dir, n);
        const set = await loadPolicyDir(dir);
        const grouped = enforcementPatches(set.policies, "enforce");
        const perPolicy = perPolicyEnforcementPatches(set.policies, "enforce");
        out.push({ policies: set.policies.length, patches: grouped.length, per_policy_patches: perPolicy.length, bytes: size(grouped), per_policy_bytes: size(perPolicy) });
    }
    return out;
}
