/**
 * The package entry another Pulumi program imports (package.json `exports`), apart from the Pulumi
 * program itself (Pulumi.yaml `main`).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../harness/paths";

describe("package entry", () => {
    test("`policy-stack` resolves to the compiled entry, with its type declarations, exporting PolicyStack", () => {
        // A package may import itself by name once it declares `exports`: what a dependent program sees.
        const entry = require.resolve("policy-stack");
        assert.equal(path.relative(repoRoot, entry), path.join("build", "api.js"));
        assert.ok(fs.existsSync(path.join(repoRoot, "build", "api.d.ts")), "types for TypeScript programs");
        const api = require("policy-stack") as typeof import("../../api");
        assert.equal(api.PolicyStack.type, "policy-stack:index:PolicyStack");
        for (const name of ["readStackConfig", "parseStackConfig", "preparePolicyArtifact", "prepareStackArtifact"] as const) assert.equal(typeof api[name], "function", name);
    });
    test("Pulumi runs index.ts, not the package entry", () => {
        assert.match(fs.readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8"), /^main: index\.ts$/m);
    });
});
