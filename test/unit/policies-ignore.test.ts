import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { IgnoreMatcher, parseIgnoreFile, parseIgnorePattern } from "../../lib/policies";

describe("gitignore matcher", () => {
    // [patterns, path, isDir, ignored]
    const table: [string, string, boolean, boolean][] = [
        ["*.md", "README.md", false, true],
        ["*.md", "docs/README.md", false, true],
        ["*.md", "README.mdx", false, false],
        ["/top.yaml", "top.yaml", false, true],
        ["/top.yaml", "sub/top.yaml", false, false],
        ["sub/x.yaml", "sub/x.yaml", false, true],
        ["sub/x.yaml", "a/sub/x.yaml", false, false],
        ["build/", "build", true, true],
        ["build/", "build", false, false],
        ["build/", "a/build", true, true],
        ["build/", "build/x.yaml", false, true],
        ["**/scratch", "scratch", true, true],
        ["**/scratch", "a/b/scratch", false, true],
        ["a/**/b", "a/b", false, true],
        ["a/**/b", "a/x/y/b", false, true],
        ["a/**/b", "a/x/y/c", false, false],
        ["a/**", "a", true, false],
        ["a/**", "a/x/y", false, true],
        ["*.yaml\n!keep.yaml", "keep.yaml", false, false],
        ["*.yaml\n!keep.yaml", "drop.yaml", false, true],
        ["!keep.yaml\n*.yaml", "keep.yaml", false, true],
        ["dir/\n!dir/keep.yaml", "dir/keep.yaml", false, true], // git: cannot re-include below an excluded dir
        ["file?.yaml", "file1.yaml", false, true],
        ["file?.yaml", "file10.yaml", false, false],
        ["[ab].yaml", "a.yaml", false, true],
        ["[ab].yaml", "c.yaml", false, false],
        ["[!ab].yaml", "c.yaml", false, true],
        ["[a-c]*.yaml", "beta.yaml", false, true],
        ["\\#hash.yaml", "#hash.yaml", false, true],
        ["# comment", "# comment", false, false],
        ["\\!bang.yaml", "!bang.yaml", false, true],
        ["trailing.yaml   ", "trailing.yaml", false, true],
        ["a*b", "a/b", false, false],
        ["*", "anything/at/all", false, true],
        ["name.yaml\r", "name.yaml", false, true],
    ];
    for (const [patterns, p, isDir, ignored] of table) {
        test(`${JSON.stringify(patterns)} ${ignored ? "ignores" : "keeps"} ${p}${isDir ? "/" : ""}`, () => {
            const m = new IgnoreMatcher(parseIgnoreFile(patterns));
            assert.equal(m.ignores(p, isDir), ignored);
        });
    }

    test("patterns from a nested .sourceignore only apply below their directory", () => {
        const m = new IgnoreMatcher(parseIgnoreFile("/local.yaml\n*.tmp.yaml", "team"));
        assert.equal(m.ignores("team/local.yaml", false), true);
        assert.equal(m.ignores("local.yaml", false), false);
        assert.equal(m.ignores("team/sub/local.yaml", false), false);
        assert.equal(m.ignores("team/sub/x.tmp.yaml", false), true);
        assert.equal(m.ignores("x.tmp.yaml", false), false);
    });

    test("Flux source defaults: VCS, binary extensions, CI and tool files", () => {
        const m = IgnoreMatcher.withFluxDefaults();
        for (const p of [".git", "sub/.git", ".gitignore", ".gitmodules", "logo.png", "a/b.jpg", "dist.tar.gz", "x.zip", ".github", ".circleci", ".travis.yml", ".gitlab-ci.yml", "cloudbuild.yaml", "nested/.sops.yaml", ".flux.yaml", ".goreleaser.yml"]) {
            const isDir = [".git", "sub/.git", ".github", ".circleci"].includes(p);
            assert.equal(m.ignores(p, isDir), true, p);
        }
        for (const p of ["policy.yaml", "gitignore.yaml", "x.tar", "png.yaml"]) assert.equal(m.ignores(p, false), false, p);
        // A .sourceignore can re-include a default exclusion.
        assert.equal(m.with(parseIgnoreFile("!cloudbuild.yaml")).ignores("cloudbuild.yaml", false), false);
    });

    test("blank lines and comments parse to nothing", () => {
        assert.equal(parseIgnorePattern(""), undefined);
        assert.equal(parseIgnorePattern("   "), undefined);
        assert.equal(parseIgnorePattern("# x"), undefined);
        assert.equal(parseIgnorePattern("!"), undefined);
    });
});
