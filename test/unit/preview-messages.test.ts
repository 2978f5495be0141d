/** The preview's messages about the published artifact, from plain values. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { OciError } from "../../lib/oci/errors";
import { previewReport, tagConflictWarning, type TagConflictFacts } from "../../lib/preview/messages";
import type { Comparison } from "../../lib/preview/published";

const LOCAL = `sha256:${"a".repeat(64)}`;
const OTHER = `sha256:${"b".repeat(64)}`;
const comparison = (over: Partial<Comparison> = {}): Comparison => ({
    publishedTag: "1.0.0",
    tagDigest: OTHER,
    diff: { added: [], removed: [], changed: [], unchanged: [] },
    summary: "policies: +1 ~1 -0 vs oci://ghcr.io/acme/policies:1.0.0",
    text: "policies: +1 ~1 -0\n+ ClusterPolicy/new (Audit)\n~ ClusterPolicy/old\n    enforcement: Audit -> Enforce",
    ...over,
});
const facts = (over: Partial<TagConflictFacts> = {}): TagConflictFacts => ({
    url: "oci://ghcr.io/acme/policies",
    tag: "1.0.0",
    localDigest: LOCAL,
    force: false,
    published: comparison(),
    ...over,
});

describe("tagConflictWarning", () => {
    test("the tag holds other content and forcePush is off: names the key, the address, both digests and the way out", () => {
        assert.equal(
            tagConflictWarning(facts()),
            `policy-stack:artifactTag = "1.0.0": oci://ghcr.io/acme/policies:1.0.0 already holds ${OTHER}, and this stack now ships ${LOCAL}; ` +
                "pulumi up will refuse to move the tag: bump policy-stack:artifactTag (the semver range picks the new tag) or set policy-stack:forcePush true",
        );
    });
    test("the config keys carry the project's name", () => {
        assert.match(tagConflictWarning(facts({ project: "team-stack" }))!, /^team-stack:artifactTag = .* set team-stack:forcePush true$/);
    });
    test("no warning: forcePush, same digest, tag absent, nothing read, or the registry unreadable", () => {
        for (const f of [
            facts({ force: true }),
            facts({ published: comparison({ tagDigest: LOCAL }) }),
            facts({ published: comparison({ tagDigest: undefined }) }),
            facts({ published: undefined }),
            facts({ published: new Error("unreachable") }),
        ]) {
            assert.equal(tagConflictWarning(f), undefined);
        }
    });
});

describe("previewReport", () => {
    test("a comparison: the summary against what Flux serves, then the lines of the diff", () => {
        assert.equal(
            previewReport(comparison(), 12),
            "policies: +1 ~1 -0 vs oci://ghcr.io/acme/policies:1.0.0\n+ ClusterPolicy/new (Audit)\n~ ClusterPolicy/old\n    enforcement: Audit -> Enforce",
        );
    });
    test("nothing compared (not a preview): nothing to log", () => {
        assert.equal(previewReport(undefined, 12), undefined);
    });
    test("an unreadable registry: the policy count and why", () => {
        assert.equal(
            previewReport(new Error("cannot connect to registry ghcr.io"), 12),
            "policies: 12 in the artifact; could not read the published one (cannot connect to registry ghcr.io)",
        );
    });
    test("a registry refusal the stack's settings cause: the config key to change", () => {
        const e = new OciError("auth", "authentication required by registry ghcr.io, repository acme/policies to list tags", { reason: "credentials-required" });
        assert.equal(
            previewReport(e, 3),
            "policies: 3 in the artifact; could not read the published one (authentication required by registry ghcr.io, repository acme/policies to list tags; " +
                "set policy-stack:registryUsername and policy-stack:registryPassword (pulumi config set --secret registryPassword <token>))",
        );
    });
});
