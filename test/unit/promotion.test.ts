/**
 * Promotion's pure parts: the artifactSource / promoteFrom* / pinDigest keys (lib/config/promotion.ts),
 * how the source registry is reached (lib/policyStack.ts promotionConnection), which keys a refusal
 * names (lib/config/registryHints.ts promotionHintFor), the stale-source message and the preview line.
 * The copy itself runs against real registries in test/integration/promotion.test.ts.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as util from "node:util";

import { DEFAULTS, KNOWN_KEYS, SECRET_KEYS, type PromotionConfig, type RegistryConfig } from "../../lib/config";
import { promotionHintFor } from "../../lib/config/registryHints";
import { OciError } from "../../lib/oci/errors";
import { promotionConnection } from "../../lib/policyStack";
import { StalePromotionError } from "../../lib/promote";
import { promotionLine } from "../../lib/preview";
import { parse, problemsOf } from "../support/stackConfig";
import { artifactProvider, type ArtifactState } from "../../components/policyArtifact";

const DIGEST = `sha256:${"a".repeat(64)}`;
const OTHER = `sha256:${"b".repeat(64)}`;
const prod = { clusterMode: "existing", registryUrl: "oci://prod.example/policies", registryUsername: "bot", registryPassword: "s3cret" };

describe("artifactSource and promoteFrom", () => {
    test("by default a stack builds, and Flux selects by semver", () => {
        const c = parse({});
        assert.equal(c.artifact.source, "build");
        assert.equal(DEFAULTS.artifactSource, "build");
        assert.equal(c.artifact.promotion, undefined);
        assert.equal(c.artifact.pinDigest, false);
    });

    test("promote takes the source stack, its registry settings and pinDigest", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promotion-ca-"));
        const ca = path.join(dir, "ca.pem");
        fs.writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n");
        try {
            const c = parse({
                ...prod, artifactSource: "promote", promoteFrom: "acme/policy-stack/staging", promoteFromUsername: "reader", promoteFromPassword: "pw",
                promoteFromCaFile: ca, promoteFromInsecure: "false", pinDigest: "true",
            });
            assert.equal(c.artifact.source, "promote");
            assert.deepEqual(c.artifact.promotion, { stack: "acme/policy-stack/staging", username: "reader", password: "pw", caFile: ca, insecure: false });
            assert.equal(c.artifact.pinDigest, true);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("pinDigest also applies to a stack that builds", () => {
        assert.equal(parse({ pinDigest: "true" }).artifact.pinDigest, true);
    });

    test("every mistake is reported at once, naming the key and the fix", () => {
        const problems = problemsOf({
            ...prod, artifactSource: "promote", promoteFrom: "a/b/c/d", promoteFromUsername: "reader", policiesPath: "policies", promoteFromCaFile: "/nonexistent/ca.pem",
        });
        assert.equal(problems.length, 4, problems.join("\n"));
        assert.match(problems.join("\n"), /policy-stack:policiesPath = "policies": artifactSource promote builds nothing/);
        assert.match(problems.join("\n"), /policy-stack:promoteFrom = "a\/b\/c\/d": must name a stack as org\/project\/stack/);
        assert.match(problems.join("\n"), /promoteFromUsername and promoteFromPassword: set both or neither/);
        assert.match(problems.join("\n"), /promoteFromCaFile = "\/nonexistent\/ca.pem": cannot be read/);
    });

    test("promote without promoteFrom, or from itself in any form, is refused; the same stack name in another project is not", () => {
        assert.match(problemsOf({ ...prod, artifactSource: "promote" }).join("\n"), /policy-stack:promoteFrom: required for artifactSource promote/);
        for (const self of ["dev", "policy-stack/dev", "organization/policy-stack/dev", "acme/policy-stack/dev"]) {
            assert.match(problemsOf({ ...prod, artifactSource: "promote", promoteFrom: self }).join("\n"), new RegExp(`promoteFrom = "${self}": names this stack`), self);
        }
        assert.equal(parse({ ...prod, registryPassword: "s3cret", artifactSource: "promote", promoteFrom: "acme/other-project/dev" }).artifact.promotion?.stack, "acme/other-project/dev");
    });

    test("promoteFrom* keys on a stack that builds are refused, not ignored", () => {
        const problems = problemsOf({ promoteFrom: "staging", promoteFromInsecure: "true" });
        assert.deepEqual(problems.map((p) => p.split(" = ")[0]), ["policy-stack:promoteFrom", "policy-stack:promoteFromInsecure"]);
        assert.match(problems[0], /only applies to artifactSource promote/);
        assert.match(problemsOf({ artifactSource: "copy" })[0], /artifactSource = "copy": must be one of build \| promote/);
    });

    test("the source password is a secret key: never echoed", () => {
        assert.ok(SECRET_KEYS.has("promoteFromPassword"));
        for (const key of ["artifactSource", "promoteFrom", "promoteFromUsername", "promoteFromPassword", "promoteFromCaFile", "promoteFromInsecure", "pinDigest"]) {
            assert.ok(key in KNOWN_KEYS, key);
        }
        const problems = problemsOf({ promoteFromPassword: "hunter2" });
        assert.match(problems[0], /promoteFromPassword = \[secret\]/);
        assert.ok(!problems.join("\n").includes("hunter2"));
    });
});

describe("promotionConnection: how the source registry is reached", () => {
    const external: RegistryConfig = { mode: "external", pushUrl: "oci://prod.example/policies", pullUrl: "oci://prod.example/policies", insecure: false, username: "bot", password: "s3cret", caFile: "/ca/prod.pem" };
    const promotion: PromotionConfig = { stack: "staging" };

    test("on this stack's own registry host: this stack's credentials, CA and TLS setting", () => {
        assert.deepEqual(promotionConnection(promotion, external, "oci://prod.example/staging-policies"), {
            credentials: { username: "bot", password: "s3cret" }, caFile: "/ca/prod.pem", insecure: false,
        });
    });

    test("on another registry: anonymous over TLS, unless the promoteFrom* keys say otherwise", () => {
        assert.deepEqual(promotionConnection(promotion, external, "oci://staging.example/policies"), { credentials: undefined, caFile: undefined, insecure: false });
        assert.deepEqual(
            promotionConnection({ stack: "staging", username: "reader", password: "pw", caFile: "/ca/staging.pem", insecure: true }, external, "oci://staging.example/policies"),
            { credentials: { username: "reader", password: "pw" }, caFile: "/ca/staging.pem", insecure: true },
        );
    });

    test("a loopback source (kind's local registry of a dev stack) defaults to plain HTTP, as registryInsecure does", () => {
        assert.equal(promotionConnection(promotion, external, "oci://localhost:5001/kyverno-policies").insecure, true);
    });
});

describe("promotion messages", () => {
    const failure = (host: string) => new OciError("auth", "401 Unauthorized", { host, reason: "credentials-rejected" });

    test("a refusal by the source registry names the promoteFrom* keys, one by this stack's registry the registry* keys", () => {
        const hint = promotionHintFor("oci://staging.example/policies", "oci://prod.example/policies");
        assert.match(hint(failure("staging.example"))!, /check policy-stack:promoteFromUsername and policy-stack:promoteFromPassword/);
        assert.match(hint(failure("prod.example"))!, /check policy-stack:registryUsername and policy-stack:registryPassword/);
        assert.match(hint(new OciError("tag-conflict", "x", { host: "prod.example", reason: "tag-exists" }))!, /bump policy-stack:artifactTag/);
    });

    test("on one registry, the keys in use are this stack's own", () => {
        assert.match(promotionHintFor("oci://prod.example/staging-policies", "oci://prod.example/policies")(failure("prod.example"))!, /registryUsername/);
    });

    test("a stale source names both digests and what to run", () => {
        const source = { stack: "acme/policy-stack/staging", url: "oci://staging.example/policies", digest: DIGEST, tag: "1.2.0" };
        const moved = new StalePromotionError(source, OTHER).message;
        assert.match(moved, new RegExp(`stack acme/policy-stack/staging outputs artifactDigest ${DIGEST}, which oci://staging.example/policies no longer serves; its tag 1.2.0 now points at ${OTHER}`));
        assert.match(moved, /run pulumi up on acme\/policy-stack\/staging/);
        assert.match(new StalePromotionError(source, undefined).message, /its tag 1\.2\.0 is gone too/);
    });

    test("a stale-source error keeps no credentials, however it is printed", () => {
        const withCredentials = { stack: "staging", url: "oci://staging.example/policies", digest: DIGEST, tag: "1.2.0", credentials: { username: "reader", password: "hunter2-secret" } };
        const err = new StalePromotionError(withCredentials, OTHER);
        assert.ok(withCredentials.credentials.password.length > 0, "the source given holds a password");
        for (const printed of [util.inspect(err, { depth: 10 }), JSON.stringify(err), err.message]) assert.ok(!printed.includes("hunter2-secret"), printed);
    });

    test("the preview says what is promoted, from where, to where", () => {
        assert.equal(
            promotionLine({ stack: "staging", url: "oci://staging.example/policies", digest: DIGEST }, "oci://prod.example/policies", "1.2.0"),
            `promoting oci://staging.example/policies@${DIGEST} (stack staging) to oci://prod.example/policies:1.2.0, byte for byte; nothing is built`,
        );
    });
});

describe("the artifact resource's diff for a promoted artifact", () => {
    const olds = {
        path: `oci://staging.example/policies@${DIGEST}`, url: "oci://prod.example/policies", tag: "1.2.0", digest: DIGEST, layerDigest: OTHER, insecure: false, force: false,
        repository: "policies", revision: `1.2.0@${DIGEST}`, policies: {}, sourceStack: "staging", sourceUrl: "oci://staging.example/policies", sourceInsecure: false,
        sourceSignatureDigest: OTHER,
    } as ArtifactState;

    test("the same digest from another stack, or rotated source credentials, is no change", async () => {
        assert.equal((await artifactProvider.diff!("id", olds, { ...olds, sourceStack: "acme/policy-stack/staging", sourcePassword: "rotated" })).changes, false);
    });

    test("a new source signature (signed or re-signed since) is a change: the copy brings it", async () => {
        assert.equal((await artifactProvider.diff!("id", olds, { ...olds, sourceSignatureDigest: `sha256:${"c".repeat(64)}` })).changes, true);
        assert.equal((await artifactProvider.diff!("id", { ...olds, sourceSignatureDigest: undefined }, olds)).changes, true, "a source signed since the last copy");
    });
});
