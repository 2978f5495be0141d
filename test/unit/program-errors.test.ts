/**
 * Bad input fails the program before any resource is registered.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { runProgram } from "../support/mockProgram";

describe("bad input", () => {
    test("bad config fails before anything is created, naming every bad key", async () => {
        const run = await runProgram({
            preview: true,
            config: {
                "policy-stack:enforcement": "strict",
                "policy-stack:artifactTag": "2.0.0",
                "policy-stack:semverRange": "1.x",
                "policy-stack:registryMode": "external",
                "policy-stack:registryUrl": "oci://127.0.0.1:5000/p",
                "policy-stack:registryUsername": "u",
                "policy-stack:registryPassword": "plain-text-password",
            },
        });
        const error = run.error;
        assert.ok(error instanceof Error, "the program failed");
        assert.match(error.message, /policy-stack:enforcement = "strict": must be one of audit \| enforce/);
        assert.match(error.message, /artifactTag = "2.0.0" does not satisfy policy-stack:semverRange = "1.x"/);
        assert.match(error.message, /policy-stack:registryPassword: stored in plain text; store it encrypted/);
        assert.ok(!error.message.includes("plain-text-password"), "the secret value is not echoed");
        assert.deepEqual(run.resources.map((r) => r.name), []);
    });
});
