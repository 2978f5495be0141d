/**
 * The committed stack files (Pulumi.dev.yaml, Pulumi.prod.yaml) and the promotion example
 * (examples/promotion: staging builds, prod promotes) are valid configs: parsed with the secrets
 * their comments tell the user to set, they are accepted, and say what their comments say.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

import { parseStackConfig, type StackConfig } from "../../lib/config";
import { repoRoot } from "../harness/paths";

/** A stack file's config, plus `secrets` (the values its comments say to set), parsed as that stack. */
function parseStackFile(file: string, stack: string, secrets: Record<string, string> = {}): StackConfig {
    const doc = yaml.load(fs.readFileSync(path.join(repoRoot, file), "utf8")) as { config: Record<string, unknown> };
    const raw = Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, String(v)]));
    for (const [k, v] of Object.entries(secrets)) raw[`policy-stack:${k}`] = v;
    return parseStackConfig(raw, { project: "policy-stack", stack, projectDir: repoRoot });
}

const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
const signingKey = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();

describe("committed stack files", () => {
    test("dev: kind, the local registry, a build, audit", () => {
        const c = parseStackFile("Pulumi.dev.yaml", "dev");
        assert.deepEqual([c.cluster.mode, c.registry.mode, c.artifact.source, c.enforcement], ["kind", "local", "build", "audit"]);
    });

    test("prod: an existing cluster, an external private registry, enforce", () => {
        const c = parseStackFile("Pulumi.prod.yaml", "prod", { registryPassword: "token" });
        assert.deepEqual([c.cluster.mode, c.registry.mode, c.artifact.source, c.enforcement], ["existing", "external", "build", "enforce"]);
    });
});

describe("examples/promotion: staging builds and signs, prod promotes its digest", () => {
    test("staging builds, signs with its key, and audits", () => {
        const c = parseStackFile("examples/promotion/Pulumi.staging.yaml", "staging", { registryPassword: "token", signingKey });
        assert.equal(c.artifact.source, "build");
        assert.equal(c.enforcement, "audit");
        assert.equal(c.signing.verification, "cosign");
        assert.ok(c.signing.key, "signs");
    });

    test("prod promotes from staging, pinned by digest, verifies staging's key and enforces: same bytes, its own enforcement", () => {
        const c = parseStackFile("examples/promotion/Pulumi.prod.yaml", "prod", { registryPassword: "token", verificationPublicKeys: publicPem });
        assert.equal(c.artifact.source, "promote");
        assert.equal(c.artifact.promotion?.stack, "my-org/policy-stack/staging");
        assert.equal(c.artifact.pinDigest, true);
        assert.equal(c.enforcement, "enforce");
        assert.equal(c.signing.key, undefined, "prod signs nothing: staging's signature comes along");
        assert.equal(c.signing.publicKeys.length, 1);
    });

    test("both stacks publish the same tag line, so the semver ranges agree", () => {
        const staging = parseStackFile("examples/promotion/Pulumi.staging.yaml", "staging", { registryPassword: "token", signingKey });
        const prod = parseStackFile("examples/promotion/Pulumi.prod.yaml", "prod", { registryPassword: "token", verificationPublicKeys: publicPem });
        assert.equal(staging.artifact.semverRange, prod.artifact.semverRange);
    });
});
