/**
 * The whole program under strict mocks, update mode, with a cosign signing key (and its password,
 * both stored as secrets): the push resource gets the key only as secret inputs and its fingerprint
 * in plain, Flux gets a Secret of the public key and spec.verify, the status check waits for
 * SourceVerified, and neither the key nor its password is anywhere outside a secret.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { loadSigningKey } from "../../lib/signing";
import { repoRoot } from "../harness/paths";
import { isSecret, runProgram, secretInput, valueOf, type ProgramRun } from "../support/mockProgram";
import { assertNoSecrets } from "../support/secrets-scan";
import { cosignFixture } from "../support/signing-fixtures";
import { signingKeySecretSpec } from "../support/signing-secrets";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
let run: ProgramRun;

/** `v` with every serialised secret replaced by a placeholder: what is left must hold no secret. */
function withoutSecrets(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(withoutSecrets);
    if (v === null || typeof v !== "object") return v;
    if (SECRET_SIG in (v as object)) return "[secret]";
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, withoutSecrets(x)]));
}

before(async () => {
    run = await runProgram({
        preview: false,
        config: {
            "policy-stack:policiesPath": path.join(repoRoot, "policies"),
            "policy-stack:signingKey": cosignFixture.key,
            "policy-stack:signingKeyPassword": cosignFixture.password,
        },
        secretKeys: ["policy-stack:signingKey", "policy-stack:signingKeyPassword"],
    });
});

describe("signed stack", () => {
    test("the program runs", () => {
        assert.equal(run.error, undefined, String(run.error));
    });

    test("the push resource gets the key and its password only as secrets, its fingerprint in plain", async () => {
        const push = run.find("pulumi-nodejs:dynamic/policy-stack:PolicyArtifact");
        assert.equal(secretInput(push.inputs.signingKey), cosignFixture.key);
        assert.equal(secretInput(push.inputs.signingKeyPassword), cosignFixture.password);
        const key = await loadSigningKey(cosignFixture.key, cosignFixture.password);
        assert.equal(push.inputs.signingKeyFingerprint, key.publicKey.fingerprint);
    });

    test("Flux verifies with the key's public half from a Secret of *.pub entries, created after Flux", async () => {
        const secret = run.find("kubernetes:core/v1:Secret", "verification-keys-secret");
        assert.equal(secret.inputs.metadata.name, "kyverno-policies-cosign-keys");
        assert.equal(secret.inputs.metadata.namespace, "flux-system");
        const entries = (secretInput(secret.inputs.stringData) ?? secret.inputs.stringData) as Record<string, string>;
        assert.deepEqual(Object.values(entries).map((p) => p.trim()), [cosignFixture.pub.trim()]);
        const component = run.find("policy-stack:signing:VerificationKeys");
        // Flux's resources, as RegistryAccess's (under mocks the ConfigFile has no children, so the list resolves empty).
        assert.ok(component.dependsOn !== undefined, "the Secret waits for Flux (its namespace)");
        const repo = run.find("kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository");
        assert.deepEqual(repo.inputs.spec.verify, { provider: "cosign", secretRef: { name: "kyverno-policies-cosign-keys" } });
        assert.ok((await run.dependencyNames(repo)).includes("verification-keys-secret"), "the OCIRepository waits for the Secret");
    });

    test("the Flux status check also waits for SourceVerified", () => {
        const check = run.find("command:local:Command", "policy-source-flux-status");
        assert.equal((secretInput(check.inputs.environment) as Record<string, string>).FLUX_VERIFY, "true");
    });

    test("outputs: verification cosign; no output holds the key or its password outside a secret", async () => {
        assert.equal(await valueOf(run.outputs.verification), "cosign");
        const key = await loadSigningKey(cosignFixture.key, cosignFixture.password);
        const spec = signingKeySecretSpec(cosignFixture.key, cosignFixture.password, key.privateKey);
        for (const [name, value] of Object.entries(run.outputs)) {
            if (await isSecret(value as never)) continue;
            assertNoSecrets({ texts: { [`output ${name}`]: JSON.stringify(await valueOf(value as never)) ?? "" } }, spec);
        }
    });

    test("no resource input holds the key or its password outside a secret", async () => {
        const key = await loadSigningKey(cosignFixture.key, cosignFixture.password);
        const texts = Object.fromEntries(run.resources.map((r) => [`${r.type}/${r.name}`, JSON.stringify(withoutSecrets(r.inputs))]));
        assertNoSecrets({ texts }, signingKeySecretSpec(cosignFixture.key, cosignFixture.password, key.privateKey));
    });
});
