/**
 * `pulumi preview` on a policy library whose test fixtures sit beside the policies: the program
 * fails before any resource with the loader's grouped report (the CLI's formatter), naming the
 * config key, as a RunError so the engine prints no stack trace.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { formatPolicyProblems, loadPolicyDir, PolicyLoadAggregateError } from "../../lib/policies";
import { writePolicyLibrary } from "../fixtures/library";
import { tempDir } from "../fixtures/tree";
import { runProgram } from "../support/mockProgram";

describe("policy library with test fixtures", () => {
    test("preview fails with one problem per line, grouped and capped, and the .sourceignore lines", async () => {
        const t = tempDir();
        try {
            writePolicyLibrary(t.dir);
            const run = await runProgram({ preview: true, config: { "policy-stack:policiesPath": t.dir } });
            assert.ok(pulumi.RunError.isInstance(run.error), `a RunError (no stack trace in the preview): ${String(run.error)}`);
            const message = (run.error as Error).message;
            const loaded = await loadPolicyDir(t.dir).then(() => undefined, (e: unknown) => e);
            assert.ok(loaded instanceof PolicyLoadAggregateError);
            const expected = formatPolicyProblems(loaded.report, {
                fullListHint: `Every problem, as JSON: node build/cli/artifact.js build --path ${JSON.stringify(t.dir)} --output json`,
            });
            assert.equal(message, `policy-stack:policiesPath: ${expected}`);
            const lines = message.split("\n");
            assert.match(lines[0], new RegExp(`^policy-stack:policiesPath: ${loaded.errors.length} problems in policy directory `));
            assert.ok(lines.length < 150 && Math.max(...lines.map((l) => l.length)) <= 300, "no wall of text");
            assert.equal(lines.filter((l) => l.includes("only Kyverno policy kinds")).length, 1);
            assert.ok(lines.includes("**/.chainsaw-test/"), message);
            assert.deepEqual(run.resources.map((r) => r.name), []);
        } finally {
            t.cleanup();
        }
    });
});
