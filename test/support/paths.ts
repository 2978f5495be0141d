import * as path from "node:path";

/** Repository root, whether the tests run from `test/` sources or from the compiled `build/test/`. */
export const repoRoot = (() => {
    let dir = __dirname;
    while (!require("node:fs").existsSync(path.join(dir, "Pulumi.yaml"))) {
        const parent = path.dirname(dir);
        if (parent === dir) throw new Error(`cannot find Pulumi.yaml above ${__dirname}`);
        dir = parent;
    }
    return dir;
})();

/**
 * The shared fixtures (Flux install.yaml, Kyverno chart, sample policies). They live beside the
 * checkout in `../shared/fixtures`; POLICY_STACK_FIXTURES points elsewhere when they do not.
 */
export const fixturesDir = process.env.POLICY_STACK_FIXTURES ?? path.resolve(repoRoot, "..", "shared", "fixtures");
export const samplePoliciesDir = path.join(fixturesDir, "policies-sample");
export const fluxInstallYaml = path.join(fixturesDir, "flux", "install.yaml");
export const kyvernoChartDir = path.join(fixturesDir, "kyverno", "chart");
