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
 * The repository's own 12 sample ClusterPolicies: the tree the unit and integration tests build,
 * push, diff and patch. Nothing outside the repository is read (the end-to-end run's Flux and
 * Kyverno come from test/harness/fixtures-resolver.ts).
 */
export const samplePoliciesDir = path.join(repoRoot, "test", "fixtures", "policies-sample");
