/**
 * A bad file in the policy directory fails the program before any resource is registered.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runProgram } from "../support/mockProgram";
import { repoRoot } from "../harness/paths";

describe("bad policies", () => {
    test("a Secret slipped into the policy directory stops the program, naming the file", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policies-"));
        fs.cpSync(path.join(repoRoot, "policies"), dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "oops.yaml"), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\nstringData:\n  token: abc\n");
        const run = await runProgram({ preview: true, config: { "policy-stack:policiesPath": dir } });
        assert.ok(run.error instanceof Error, "the program failed");
        assert.match(run.error.message, /oops\.yaml:\d+: Secret/);
        assert.match(run.error.message, /Secret/);
        assert.deepEqual(run.resources.map((r) => r.name), []);
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
