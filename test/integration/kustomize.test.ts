/**
 * The generated enforcement patches, applied by the real kustomize (`kubectl kustomize`), the same
 * engine Flux's kustomize-controller embeds: the program's grouped patches (one per enforcement
 * shape, target names as anchored regular expressions) on our policies, and on a generated
 * 500-policy tree against one patch per policy.
 */
import { describe, test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { enforcementPatches, enforceOperations, FluxPatch, perPolicyEnforcementPatches, type PatchablePolicy } from "../../lib/policies/enforcement";
import { Enforcement } from "../../lib/config";
import { repoRoot, samplePoliciesDir } from "../harness/paths";
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

/** `kubectl kustomize` over resource files already in `work`, with a Flux-style `patches:` list. */
function render(work: string, resources: string[], patches: FluxPatch[]): string {
    fs.writeFileSync(path.join(work, "kustomization.yaml"), yaml.dump({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources,
        patches: patches.map((p) => ({ patch: p.patch, target: p.target })),
    }));
    return execFileSync("kubectl", ["kustomize", work], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
}

/**
 * 500 policies of varied shapes, deterministic: classic ClusterPolicies with 1 to 3 validate rules
 * (some after a mutate rule, so the indices move; some with Audit written at spec or rule level),
 * some with verifyImages, namespaced Policies in two namespaces, CEL ValidatingPolicies and
 * mutate-only policies. Some names hold dots, and for each of those a name with the dots replaced
 * by `x` in another shape: an unescaped dot would let one patch select the other policy.
 */
function generatedPolicies(count: number): PatchablePolicy[] {
    let state = 20261127;
    const next = (n: number) => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return (state >>> 8) % n;
    };
    const match = { any: [{ resources: { kinds: ["Pod"] } }] };
    const validate = (i: number, audit: boolean) => ({
        name: `check-${i}`, match,
        validate: { message: `rule ${i}`, pattern: { metadata: { labels: { [`l${i}`]: "?*" } } }, ...(audit ? { failureAction: "Audit" } : {}) },
    });
    const mutate = { name: "add-label", match, mutate: { patchStrategicMerge: { metadata: { labels: { "+(team)": "none" } } } } };
    const verify = (entries: number) => ({
        name: "verify-signature", match,
        verifyImages: Array.from({ length: entries }, (_, j) => ({ imageReferences: [`registry.example/team-${j}/*`], attestors: [{ entries: [{ keys: { publicKeys: "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----" } }] }] })),
    });
    const classic = (name: string, kind: "ClusterPolicy" | "Policy", namespace?: string): PatchablePolicy => {
        const rules: unknown[] = [];
        if (next(4) === 0) rules.push(mutate);
        const validates = 1 + next(3);
        for (let r = 0; r < validates; r++) rules.push(validate(r, next(5) === 0));
        if (next(8) === 0) rules.push(verify(1 + next(2)));
        const spec: Record<string, unknown> = { background: true, rules };
        if (next(2) === 0) spec.validationFailureAction = "Audit";
        const metadata: Record<string, unknown> = { name, ...(namespace ? { namespace } : {}) };
        return { apiVersion: "kyverno.io/v1", kind, name, namespace, document: { apiVersion: "kyverno.io/v1", kind, metadata, spec } };
    };
    const policies: PatchablePolicy[] = [];
    for (let i = 0; policies.length < count; i++) {
        const name = i % 40 === 7 ? `team.p${i}.require-labels` : `policy-${String(i).padStart(3, "0")}`;
        const pick = next(20);
        if (pick < 11) {
            policies.push(classic(name, "ClusterPolicy"));
        } else if (pick < 14) {
            policies.push(classic(name, "Policy", next(2) === 0 ? "team-a" : "team-b"));
        } else if (pick < 15) {
            const rules = [verify(1 + next(2))];
            policies.push({ apiVersion: "kyverno.io/v1", kind: "ClusterPolicy", name, document: { apiVersion: "kyverno.io/v1", kind: "ClusterPolicy", metadata: { name }, spec: { rules } } });
        } else if (pick < 18) {
            const document = {
                apiVersion: "policies.kyverno.io/v1", kind: "ValidatingPolicy", metadata: { name },
                spec: {
                    validationActions: ["Audit"],
                    matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"] }] },
                    validations: [{ expression: `has(object.metadata.labels.l${i})`, message: `label l${i}` }],
                },
            };
            policies.push({ apiVersion: "policies.kyverno.io/v1", kind: "ValidatingPolicy", name, document });
        } else {
            policies.push({ apiVersion: "kyverno.io/v1", kind: "ClusterPolicy", name, document: { apiVersion: "kyverno.io/v1", kind: "ClusterPolicy", metadata: { name }, spec: { rules: [mutate] } } });
        }
        if (name.includes(".") && policies.length < count) {
            // The look-alike: its own shape (three validate rules), which a stray match would show.
            const twin = name.replaceAll(".", "x");
            const rules = [validate(0, false), validate(1, false), validate(2, false)];
            policies.push({ apiVersion: "kyverno.io/v1", kind: "ClusterPolicy", name: twin, document: { apiVersion: "kyverno.io/v1", kind: "ClusterPolicy", metadata: { name: twin }, spec: { rules } } });
        }
    }
    return policies;
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

    test("500 policies: the grouped patches render exactly what one patch per policy renders, with one patch per shape", () => {
        const policies = generatedPolicies(500);
        assert.equal(policies.length, 500);
        const work = fs.mkdtempSync(path.join(os.tmpdir(), "kustomize-500-"));
        try {
            const resources = policies.map((p, i) => {
                const file = `${String(i).padStart(3, "0")}.yaml`;
                fs.writeFileSync(path.join(work, file), yaml.dump(p.document));
                return file;
            });
            const perPolicy = perPolicyEnforcementPatches(policies, "enforce");
            const grouped = enforcementPatches(policies, "enforce");
            const operationLists = new Set(policies.map((p) => JSON.stringify(enforceOperations(p))).filter((ops) => ops !== "[]"));
            const shapeKeys = new Set(policies.filter((p) => enforceOperations(p).length > 0)
                .map((p) => JSON.stringify([p.apiVersion, p.kind, p.namespace ?? "", enforceOperations(p)])));
            assert.ok(perPolicy.length > 350, `${perPolicy.length} policies have something to enforce`);
            assert.equal(grouped.length, shapeKeys.size, "one patch per (group, version, kind, namespace, operations)");
            assert.ok(grouped.length * 10 < perPolicy.length, `${grouped.length} patches (${operationLists.size} distinct operation lists) for ${perPolicy.length} policies`);
            assert.ok(policies.some((p) => p.name.includes(".")), "dotted names are exercised");

            const audit = render(work, resources, []);
            const expected = render(work, resources, perPolicy);
            const actual = render(work, resources, grouped);
            assert.notEqual(expected, audit, "the per-policy patches change something");
            assert.equal(actual, expected, "the grouped patches render the same YAML, byte for byte");

            // And what both render is right, policy by policy, judged from the input alone.
            const input = new Map(policies.map((p) => [`${p.kind}/${p.namespace ?? ""}/${p.name}`, p.document as any]));
            const output = yaml.loadAll(expected) as any[];
            assert.equal(output.length, policies.length);
            for (const doc of output) {
                const key = `${doc.kind}/${doc.metadata.namespace ?? ""}/${doc.metadata.name}`;
                const original = input.get(key);
                assert.ok(original, `${key} came from the input`);
                const want = structuredClone(original);
                if (doc.kind === "ValidatingPolicy") {
                    want.spec.validationActions = ["Deny"];
                } else {
                    let enforced = false;
                    for (const rule of want.spec.rules) {
                        if (rule.validate) {
                            rule.validate.failureAction = "Enforce";
                            enforced = true;
                        }
                        for (const entry of rule.verifyImages ?? []) {
                            entry.failureAction = "Enforce";
                            enforced = true;
                        }
                    }
                    if (enforced) want.spec.validationFailureAction = "Enforce";
                }
                assert.deepEqual(doc, want, key);
            }
        } finally {
            fs.rmSync(work, { recursive: true, force: true });
        }
    });
});
