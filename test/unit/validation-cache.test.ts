import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadPolicyDir, PolicyLoadAggregateError } from "../../lib/policies";
import { validatorVersion } from "../../lib/policies/cache";
import { samplePoliciesDir } from "../harness/paths";
import { copyTree, tempDir as makeTempDir } from "../fixtures/tree";

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((cleanup) => cleanup()));
function tempDir(): string {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    return dir;
}

/** The policy set without the cache counter, for comparing cached and uncached loads. */
const withoutHits = ({ cacheHits: _hits, ...set }: Awaited<ReturnType<typeof loadPolicyDir>>) => set;

describe("validation cache", () => {
    test("a second load takes every file from the cache and gives the same result as an uncached load", async () => {
        const tree = tempDir();
        copyTree(samplePoliciesDir, tree);
        const cacheDir = tempDir();
        const first = await loadPolicyDir(tree, { cache: cacheDir });
        assert.equal(first.cacheHits, 0);
        const index = fs.readdirSync(cacheDir);
        assert.equal(index.length, 1, "one index file for the directory");
        assert.equal(Object.keys(JSON.parse(fs.readFileSync(path.join(cacheDir, index[0]), "utf8")).entries).length, first.files.length);

        const second = await loadPolicyDir(tree, { cache: cacheDir });
        assert.equal(second.cacheHits, first.files.length);
        assert.deepEqual(withoutHits(second), withoutHits(await loadPolicyDir(tree)));
    });

    test("an edited file is validated again, the others come from the cache", async () => {
        const tree = tempDir();
        copyTree(samplePoliciesDir, tree);
        const cacheDir = tempDir();
        const first = await loadPolicyDir(tree, { cache: cacheDir });
        const edited = first.files[0];
        fs.writeFileSync(edited.absPath, fs.readFileSync(edited.absPath, "utf8").replace(/^(\s+)name: (\S+)$/m, "$1name: $2-edited"));
        const second = await loadPolicyDir(tree, { cache: cacheDir });
        assert.equal(second.cacheHits, first.files.length - 1);
        assert.deepEqual(withoutHits(second), withoutHits(await loadPolicyDir(tree)));
        assert.notDeepEqual(second.policies.map((p) => p.name), first.policies.map((p) => p.name), "the edit is seen");
    });

    test("a file with a problem is never cached: its report is the same on every load", async () => {
        const tree = tempDir();
        copyTree(samplePoliciesDir, tree);
        fs.writeFileSync(path.join(tree, "broken.yaml"), "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: broken}\nspec: {rules: []}\n");
        const cacheDir = tempDir();
        const messages: string[] = [];
        for (let i = 0; i < 2; i++) {
            const err = await loadPolicyDir(tree, { cache: cacheDir }).then(() => undefined, (e: unknown) => e);
            assert.ok(err instanceof PolicyLoadAggregateError);
            messages.push(err.message);
        }
        assert.equal(messages[0], messages[1]);
        assert.match(messages[0], /broken\.yaml/);
        const [index] = fs.readdirSync(cacheDir);
        const keys = Object.keys(JSON.parse(fs.readFileSync(path.join(cacheDir, index), "utf8")).entries);
        assert.ok(keys.length > 0 && keys.every((k) => !k.startsWith("broken.yaml")), keys.join(", "));
    });

    test("an index of another validator version, or a corrupt one, is not trusted", async () => {
        const tree = tempDir();
        copyTree(samplePoliciesDir, tree);
        const cacheDir = tempDir();
        const first = await loadPolicyDir(tree, { cache: cacheDir });
        const [index] = fs.readdirSync(cacheDir);
        const file = path.join(cacheDir, index);
        const saved = JSON.parse(fs.readFileSync(file, "utf8"));
        assert.equal(saved.version, validatorVersion());
        assert.equal((await loadPolicyDir(tree, { cache: cacheDir })).cacheHits, first.files.length, "the index is used as written");

        fs.writeFileSync(file, JSON.stringify({ ...saved, version: "another" }));
        assert.equal((await loadPolicyDir(tree, { cache: cacheDir })).cacheHits, 0);
        fs.writeFileSync(file, "{ not json");
        const set = await loadPolicyDir(tree, { cache: cacheDir });
        assert.equal(set.cacheHits, 0);
        assert.equal(set.policies.length, first.policies.length);
    });

    test("the index of a directory not loaded for 30 days is removed at the next save", async () => {
        const [a, b] = [tempDir(), tempDir()];
        copyTree(samplePoliciesDir, a);
        copyTree(samplePoliciesDir, b);
        const cacheDir = tempDir();
        await loadPolicyDir(a, { cache: cacheDir });
        const [stale] = fs.readdirSync(cacheDir);
        const old = new Date(Date.now() - 31 * 24 * 3600 * 1000);
        fs.utimesSync(path.join(cacheDir, stale), old, old);
        await loadPolicyDir(b, { cache: cacheDir });
        const left = fs.readdirSync(cacheDir);
        assert.equal(left.length, 1);
        assert.notEqual(left[0], stale);
    });

    test("off by default: nothing is written", async () => {
        const cacheDir = tempDir();
        const set = await loadPolicyDir(samplePoliciesDir, {});
        assert.equal(set.cacheHits, undefined);
        assert.deepEqual(fs.readdirSync(cacheDir), []);
    });
});
