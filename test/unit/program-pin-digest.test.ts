/**
 * pinDigest under strict mocks (a dev stack that builds, preview and up): the OCIRepository pulls
 * `ref.digest`, the artifact's own digest, and the Flux status check waits for the bare digest,
 * the revision source-controller reports for a digest reference. Beside it, a stack without the
 * key keeps `ref.semver` (program-dev.test.ts).
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { devStackConfig, runProgram, secretInput, valueOf, type ProgramRun } from "../support/mockProgram";

for (const preview of [true, false]) {
    describe(`pinDigest true (${preview ? "preview" : "up"})`, () => {
        let run: ProgramRun;
        before(async () => {
            run = await runProgram({ preview, config: { ...devStackConfig(), "policy-stack:pinDigest": "true" } });
        });

        test("the OCIRepository pulls exactly the artifact's digest, not a semver range", () => {
            const push = run.find("pulumi-nodejs:dynamic/policy-stack:PolicyArtifact", "policies-push");
            const repo = run.find("kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository");
            assert.match(push.inputs.digest, /^sha256:[0-9a-f]{64}$/);
            assert.deepEqual(repo.inputs.spec.ref, { digest: push.inputs.digest });
        });

        test("the Flux status check waits for the revision Flux reports for a digest: the digest alone", () => {
            const push = run.find("pulumi-nodejs:dynamic/policy-stack:PolicyArtifact", "policies-push");
            const check = run.find("command:local:Command", "policy-source-flux-status");
            const environment = secretInput(check.inputs.environment) as Record<string, string>;
            assert.equal(environment.FLUX_REVISION, push.inputs.digest);
        });

        test("the outputs say the stack builds and pins; artifactRevision is the revision Flux reports for a digest", async () => {
            const push = run.find("pulumi-nodejs:dynamic/policy-stack:PolicyArtifact", "policies-push");
            assert.equal(await valueOf(run.outputs.artifactRevision), push.inputs.digest);
            assert.equal(await valueOf(run.outputs.artifactSource), "build");
            assert.equal(await valueOf(run.outputs.pinDigest), true);
            assert.equal(await valueOf(run.outputs.promotedFrom), undefined);
        });
    });
}
