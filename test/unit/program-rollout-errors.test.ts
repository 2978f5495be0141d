/**
 * A rollout map that names a policy the artifact does not hold fails once the policies are loaded,
 * before any resource is registered, listing the known names.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { runProgram } from "../support/mockProgram";
import { repoRoot } from "../harness/paths";

describe("rollout map with an unknown policy name", () => {
    test("fails before anything is created, listing the known policies", async () => {
        const run = await runProgram({
            preview: true,
            config: {
                "policy-stack:policiesPath": path.join(repoRoot, "policies"),
                "policy-stack:enforcement": JSON.stringify({ default: "audit", enforce: ["disallow-latest"], audit: ["require-team-label"] }),
            },
        });
        assert.ok(run.error instanceof Error, "the program failed");
        assert.match(run.error.message, /policy-stack:enforcement\.enforce names "disallow-latest", which is not in the artifact; known policies: add-default-seccomp, disallow-host-path, disallow-latest-tag, disallow-privileged-containers, require-team-label, restrict-nodeport/);
        assert.deepEqual(run.resources.map((r) => r.name), []);
    });
});
