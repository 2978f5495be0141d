/**
 * How Pulumi runs the program: index.ts through ts-node, transpile-only because the project says
 * so (tsconfig.json's "ts-node" section), with no environment variable and no build step, while
 * `tsc` (npm run lint) still checks every type.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { repoRoot } from "../harness/paths";

interface TsNodeService {
    options: { transpileOnly?: boolean };
    compile(code: string, fileName: string): string;
}

describe("program runtime", () => {
    const tsconfig = path.join(repoRoot, "tsconfig.json");

    test("tsc keeps checking types: the compiler options Pulumi reads carry no noCheck", () => {
        // Pulumi's language host reads compilerOptions.noCheck as "transpile only"; tsc would honour it too.
        const tsutils = require("@pulumi/pulumi/tsutils") as { loadTypeScriptCompilerOptions(p: string): Record<string, unknown> };
        const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsconfig);
        assert.equal(compilerOptions.noCheck, undefined);
        assert.equal(compilerOptions.strict, true);
    });

    test("ts-node, given what Pulumi's registration passes without PULUMI_NODEJS_TRANSPILE_ONLY, transpiles only", () => {
        const tsutils = require("@pulumi/pulumi/tsutils") as { loadTypeScriptCompilerOptions(p: string): Record<string, unknown> };
        // The options of @pulumi/pulumi cmd/run/run.js when the variable is unset: transpileOnly from
        // noCheck (undefined here), the project's tsconfig, its compiler options over Pulumi's defaults.
        const tsNode = require("ts-node") as { create(o: object): TsNodeService };
        const service = tsNode.create({
            compiler: "typescript",
            transpileOnly: undefined,
            project: tsconfig,
            skipProject: false,
            compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...tsutils.loadTypeScriptCompilerOptions(tsconfig) },
        });
        assert.equal(service.options.transpileOnly, true);
        // A type error does not stop the program: only tsc reports it.
        const js = service.compile(`const n: number = "text";\nexport = n;\n`, path.join(repoRoot, "runtime-probe.ts"));
        assert.match(js, /const n = "text"/);
    });
});
