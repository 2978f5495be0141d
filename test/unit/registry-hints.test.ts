/**
 * Registry errors state facts; each front end adds its own hint: the CLI names a flag, the stack a
 * config key. Every reason has both, each names only what exists, and lib/oci names neither.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { main } from "../../cli/artifact";
import { cliHint } from "../../cli/hints";
import { KNOWN_KEYS } from "../../lib/config";
import { stackErrorMessage, stackHint, stackHintFor } from "../../lib/config/registryHints";
import { OCI_ERROR_REASONS, OciError, withHint } from "../../lib/oci/errors";
import { repoRoot } from "../harness/paths";

const errorFor = (reason: (typeof OCI_ERROR_REASONS)[number]) => new OciError("auth", "what failed", { reason });

/** Every flag the CLI's commands take, from their --help. */
async function cliFlags(): Promise<Set<string>> {
    const flags = new Set<string>();
    for (const cmd of ["build", "push", "diff", "pull"]) {
        let out = "";
        assert.equal(await main([cmd, "--help"], { out: (s) => (out += s), err: () => {} }), 0);
        for (const m of out.matchAll(/--[a-z][a-z-]*/g)) flags.add(m[0]);
    }
    return flags;
}

describe("registry hints", () => {
    test("every reason has a CLI hint naming existing flags", async () => {
        const flags = await cliFlags();
        for (const reason of OCI_ERROR_REASONS) {
            const hint = cliHint(errorFor(reason));
            assert.ok(hint, `no CLI hint for ${reason}`);
            const named = [...hint.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]);
            assert.ok(named.length > 0, `${reason}: "${hint}" names no flag`);
            for (const f of named) assert.ok(flags.has(f), `${reason}: ${f} is not a flag of the CLI`);
        }
    });

    test("every reason has a stack hint naming known config keys, under the project's prefix", () => {
        for (const reason of OCI_ERROR_REASONS) {
            const hint = stackHint(reason);
            assert.ok(hint, `no stack hint for ${reason}`);
            const keys = [...hint.matchAll(/policy-stack:([A-Za-z]+)/g)].map((m) => m[1]!);
            assert.ok(keys.length > 0, `${reason}: "${hint}" names no config key`);
            for (const k of keys) assert.ok(k in KNOWN_KEYS, `${reason}: ${k} is not a config key`);
            assert.doesNotMatch(hint, /--(creds|insecure|ca-file|force)\b/, `${reason}: a CLI flag in the stack's hint`);
            assert.match(stackHint(reason, "other")!, /other:/);
        }
    });

    test("withHint appends the front end's hint to an OciError with a reason and leaves anything else alone", () => {
        assert.equal(withHint(errorFor("tag-exists"), cliHint).message, "what failed; pass --force to move the tag");
        assert.equal(withHint(errorFor("tag-exists"), stackHintFor()).message, "what failed; bump policy-stack:artifactTag (the semver range picks the new tag) or set policy-stack:forcePush true");
        assert.equal(withHint(new OciError("network", "connection refused"), cliHint).message, "connection refused");
        const plain = new Error("not from the registry");
        assert.equal(withHint(plain, cliHint).message, "not from the registry");
        assert.equal(stackErrorMessage(plain), "not from the registry");
        assert.equal(stackErrorMessage("a string"), "a string");
    });

    test("lib/oci's code names no CLI flag and no config key (comments aside)", () => {
        const dir = path.join(repoRoot, "lib", "oci");
        const files = fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
        assert.ok(files.length > 10, "the sources are there");
        for (const f of files) {
            const code = fs
                .readFileSync(path.join(dir, f), "utf8")
                .split("\n")
                .filter((l) => !/^\s*(\/\/|\/?\*)/.test(l))
                .map((l) => l.replace(/\s\/\/.*$/, ""));
            for (const [i, l] of code.entries()) {
                assert.doesNotMatch(l, /--(creds|insecure|ca-file|force)\b|policy-stack:|registry(Username|Password|Insecure|CaFile)|forcePush/, `lib/oci/${f}, code line ${i + 1}: ${l.trim()}`);
            }
        }
    });
});
