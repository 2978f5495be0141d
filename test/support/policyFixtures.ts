import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import type { PatchablePolicy } from "../../lib/policies/enforcement";

/** Reads every policy document in a directory with plain js-yaml (independent of the loader under test). */
export function readPolicies(dir: string): (PatchablePolicy & { file: string })[] {
    const out: (PatchablePolicy & { file: string })[] = [];
    for (const file of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
        for (const doc of yaml.loadAll(fs.readFileSync(path.join(dir, file), "utf8")) as any[]) {
            if (!doc || doc.kind === "Kustomization") continue;
            out.push({ apiVersion: doc.apiVersion, kind: doc.kind, name: doc.metadata.name, namespace: doc.metadata.namespace, document: doc, file });
        }
    }
    return out;
}
