/**
 * The generated enforcement patches, applied by the real kustomize (`kubectl kustomize`), the same
 * engine Flux's kustomize-controller embeds.
 */
import { describe, test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { enforcementPatches } from "../../lib/patches";
import { Enforcement } from "../../lib/config";
import { repoRoot, samplePoliciesDir } from "../support/paths";
import { readPolicies } from "../support/policyFixtures";

function kustomize(dirs: string[], enforcement: Enforcement): { input: any[]; output: any[] } {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "kustomize-"));
    // policies/ starts from copies of some samples: keep the first of each kind/name.
    const seen = new Set<string>();
    const policies = dirs.flatMap((dir) => readPolicies(dir).map((p) => ({ ...p, dir })))
        .filter((p) => !seen.has(`${p.kind}/${p.name}`) && seen.add(`${p.kind}/${p.name}`));
    const resources = policies.map((p, i) => {
        const file = `${i}-${p.file}`;
        fs.copyFileSync(path.join(p.dir, p.file), path.join(work, file));
        return file;
    });
    const patches = enforcementPatches(policies, enforcement);
    // Flux generates exactly this for a source without kustomization.yaml, then adds spec.patches.
    fs.writeFileSync(path.join(work, "kustomization.yaml"), yaml.dump({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources,
        patches: patches.map((p) => ({ patch: p.patch, target: p.target })),
    }));
    try {
        const out = execFileSync("kubectl", ["kustomize", work], { encoding: "utf8" });
        return { input: policies.map((p) => p.document), output: yaml.loadAll(out) as any[] };
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

const byKey = (docs: any[]) => new Map(docs.map((d) => [`${d.kind}/${d.metadata.name}`, d]));

describe("enforcement patches under real kustomize", () => {
    before(() => {
        try {
            execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
        } catch {
            throw new Error("kubectl is needed for this test (kubectl kustomize); install it, e.g. apt-get install -y kubernetes-client, or from https://kubernetes.io/docs/tasks/tools/");
        }
    });

    test("enforce: every validate rule of the sample and our policies ends up enforcing", () => {
        const { input, output } = kustomize([samplePoliciesDir, path.join(repoRoot, "policies")], "enforce");
        assert.equal(output.length, input.length);
        const before = byKey(input);
        let validateRules = 0;
        for (const doc of output) {
            const original = before.get(`${doc.kind}/${doc.metadata.name}`);
            assert.ok(original, `${doc.kind}/${doc.metadata.name} came from the input`);
            if (doc.kind === "ClusterPolicy") {
                const validating = doc.spec.rules.filter((r: any) => r.validate);
                for (const rule of validating) {
                    assert.equal(rule.validate.failureAction, "Enforce", `${doc.metadata.name}/${rule.name}`);
                    validateRules++;
                }
                if (validating.length > 0) {
                    assert.equal(doc.spec.validationFailureAction, "Enforce", doc.metadata.name);
                } else {
                    assert.deepEqual(doc, original, `${doc.metadata.name} has no validate rule and is untouched`);
                }
                // Nothing but enforcement changed.
                const strip = (d: any) => {
                    const c = structuredClone(d);
                    delete c.spec.validationFailureAction;
                    for (const r of c.spec.rules) if (r.validate) delete r.validate.failureAction;
                    return c;
                };
                assert.deepEqual(strip(doc), strip(original), `${doc.metadata.name}: only enforcement fields differ`);
            } else if (doc.kind === "ValidatingPolicy") {
                assert.deepEqual(doc.spec.validationActions, ["Deny"]);
            }
        }
        assert.ok(validateRules >= 12, `checked ${validateRules} validate rules`);
        const mutateOnly = output.find((d) => d.metadata.name === "add-default-seccomp");
        assert.ok(mutateOnly, "the mutate-only policy is present");
        assert.equal(mutateOnly.spec.validationFailureAction, undefined);
    });

    test("audit: kustomize output equals the input, policy for policy", () => {
        const { input, output } = kustomize([samplePoliciesDir, path.join(repoRoot, "policies")], "audit");
        const before = byKey(input);
        assert.equal(output.length, input.length);
        for (const doc of output) assert.deepEqual(doc, before.get(`${doc.kind}/${doc.metadata.name}`));
    });
});
