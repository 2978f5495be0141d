/**
 * The artifact CLI starts fast: compiled once (the package's bin and the npm script run the build,
 * no tsc), each command loads only what it needs, and a missing or stale build says so instead of
 * running old code.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BUILD_STAMP, staleSource } from "../../cli/freshness";
import { repoRoot, samplePoliciesDir } from "../harness/paths";
import { cliNodeFlags } from "../../bench/config";

const cliPath = path.join(repoRoot, "build", "cli", "artifact.js");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cli-startup-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs the compiled CLI and returns the modules it loaded, relative to the build or by package. */
function loadedBy(args: string[]): { code: number | null; stderr: string; ours: string[]; packages: string[] } {
    const list = path.join(tmp, `modules-${Date.now()}-${Math.random()}.json`);
    const hook = path.join(tmp, "hook.js");
    fs.writeFileSync(hook, `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(list)}, JSON.stringify(Object.keys(require.cache))));\n`);
    const r = spawnSync(process.execPath, ["--require", hook, cliPath, ...args], { encoding: "utf8", env: { ...process.env, DOCKER_CONFIG: tmp } });
    const files = (JSON.parse(fs.readFileSync(list, "utf8")) as string[]).filter((f) => f !== hook);
    const build = path.join(repoRoot, "build") + path.sep;
    return {
        code: r.status,
        stderr: r.stderr,
        ours: files.filter((f) => f.startsWith(build)).map((f) => path.relative(build, f).split(path.sep).join("/")).sort(),
        packages: [...new Set(files.filter((f) => f.includes(`${path.sep}node_modules${path.sep}`))
            .map((f) => f.split(`${path.sep}node_modules${path.sep}`).pop()!.split(path.sep))
            .map((parts) => (parts[0].startsWith("@") ? parts.slice(0, 2).join("/") : parts[0])))].sort(),
    };
}

const ENTRY = ["cli/artifact.js", "cli/common.js", "cli/freshness.js", "lib/oci/transport/redact.js"];
/** lib/oci leaves with no network code: the redactor (every command) and the digest helper (the builder). */
const OCI_LEAVES = ["lib/oci/transport/redact.js", "lib/oci/digest.js"];

describe("CLI start-up", () => {
    test("--help, a command's --help and a usage error load only the entry point: no YAML parser, archive code or registry client", () => {
        for (const args of [["--help"], ["push", "--help"], ["pull", "--no-such-flag"], []]) {
            const r = loadedBy(args);
            assert.deepEqual(r.ours, ENTRY, args.join(" "));
            assert.deepEqual(r.packages, [], `${args.join(" ")}: no package from node_modules`);
        }
    });

    test("build loads the policy loader and the layer writer, not the registry client nor tar", () => {
        const r = loadedBy(["build", "--path", samplePoliciesDir]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.ours.includes("cli/commands/build.js") && r.ours.includes("lib/policies/loader.js") && r.ours.includes("lib/artifact/build.js"));
        assert.ok(!r.ours.some((f) => f.startsWith("lib/oci/") && !OCI_LEAVES.includes(f)), `no registry client: ${r.ours.join(" ")}`);
        assert.ok(!r.ours.some((f) => f.startsWith("cli/commands/") && f !== "cli/commands/build.js"), "no other command");
        assert.deepEqual(r.packages, ["js-yaml"]);
    });

    test("push loads the registry client; a refused tree loads the problem report", () => {
        const r = loadedBy(["push", "--path", samplePoliciesDir, "--url", "oci://127.0.0.1:1/policies", "--tag", "1.0.0", "--insecure"]);
        assert.equal(r.code, 1, "nothing listens on port 1");
        assert.ok(r.ours.includes("lib/publish.js") && r.ours.includes("lib/oci/push.js") && r.ours.includes("lib/oci/client.js") && r.ours.includes("cli/registry.js"));
        assert.ok(!r.ours.includes("lib/artifact/extract.js") && !r.packages.includes("tar"), "pushing needs no extractor");

        const bad = path.join(tmp, "bad-tree");
        fs.mkdirSync(bad);
        fs.writeFileSync(path.join(bad, "pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n");
        const refused = loadedBy(["build", "--path", bad]);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /pod\.yaml/);
        assert.ok(refused.ours.includes("cli/problems.js"));
    });

    test("package.json: the npm script and the bin run the build without compiling; the entry keeps its shebang", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8"));
        assert.deepEqual(pkg.bin, { "policy-artifact": "build/cli/artifact.js" });
        assert.ok(!/\btsc\b/.test(pkg.scripts.artifact), `no compile step in: ${pkg.scripts.artifact}`);
        assert.match(pkg.scripts.artifact, /node --max-semi-space-size=1 build\/cli\/artifact\.js$/, "arguments after -- reach the CLI, which runs with a small young generation");
        // The benchmark runs the CLI with the script's own flags (bench/config.ts).
        assert.deepEqual(cliNodeFlags(pkg.scripts.artifact), ["--max-semi-space-size=1"]);
        assert.deepEqual(cliNodeFlags("node build/cli/artifact.js"), []);
        assert.throws(() => cliNodeFlags("node build/cli/other.js"), /scripts\.artifact does not end in/);
        assert.match(pkg.scripts.prepare, /\btsc\b.*&& touch build\/\.built$/, "npm install compiles and stamps the build");
        assert.match(pkg.scripts.build, /\btsc\b.*&& touch build\/\.built$/);
        assert.match(fs.readFileSync(cliPath, "utf8"), /^#!\/usr\/bin\/env node\n/);
    });

    test("the npm script names the fix when the build is missing", () => {
        const dir = path.join(tmp, "no-build");
        fs.mkdirSync(dir);
        fs.copyFileSync(path.join(repoRoot, "package.json"), path.join(dir, "package.json"));
        const r = spawnSync("npm", ["run", "-s", "artifact", "--", "--help"], { cwd: dir, encoding: "utf8" });
        assert.equal(r.status, 1);
        assert.match(r.stderr, /build\/cli\/artifact\.js is missing: run npm install \(or npm run build\)/);
    });
});

describe("stale build detection", () => {
    /** A checkout with one source file and its output; times in seconds since the epoch. */
    function tree(name: string, t: { source: number; output?: number; stamp?: number }): string {
        const root = path.join(tmp, name);
        fs.mkdirSync(path.join(root, "cli"), { recursive: true });
        fs.mkdirSync(path.join(root, "lib", "oci"), { recursive: true });
        fs.mkdirSync(path.join(root, "build", "lib", "oci"), { recursive: true });
        fs.mkdirSync(path.join(root, "build", "cli"), { recursive: true });
        const at = (file: string, seconds: number) => {
            fs.writeFileSync(file, "");
            fs.utimesSync(file, seconds, seconds);
        };
        at(path.join(root, "cli", "artifact.ts"), 1000);
        at(path.join(root, "build", "cli", "artifact.js"), 1000);
        at(path.join(root, "lib", "oci", "client.ts"), t.source);
        if (t.output !== undefined) at(path.join(root, "build", "lib", "oci", "client.js"), t.output);
        if (t.stamp !== undefined) at(path.join(root, "build", BUILD_STAMP), t.stamp);
        return root;
    }
    const check = (root: string) => staleSource(root, path.join(root, "build"));
    const client = path.join("lib", "oci", "client.ts");

    test("a source newer than its output and the last build is reported", () => {
        assert.equal(check(tree("edited", { source: 3000, output: 2000, stamp: 2000 })), client);
        assert.equal(check(tree("no-stamp", { source: 3000, output: 2000 })), client);
    });
    test("a source with no output (a new file) is reported", () => {
        assert.equal(check(tree("new-file", { source: 3000, stamp: 2000 })), client);
    });
    test("compiled after the edit (a plain tsc run) is current", () => {
        assert.equal(check(tree("recompiled", { source: 3000, output: 3001, stamp: 2000 })), undefined);
    });
    test("only touched, then npm run build (tsc leaves the output alone, the stamp moves): current", () => {
        assert.equal(check(tree("touched", { source: 3000, output: 2000, stamp: 3001 })), undefined);
    });
    test("no sources beside the build (an installed copy): nothing to compare", () => {
        const root = path.join(tmp, "installed");
        fs.mkdirSync(path.join(root, "build"), { recursive: true });
        assert.equal(check(root), undefined);
    });
    test("the compiled CLI refuses to run, naming the file and the fix", () => {
        const root = tree("whole-cli", { source: 1000 });
        fs.cpSync(path.join(repoRoot, "build", "cli"), path.join(root, "build", "cli"), { recursive: true });
        fs.cpSync(path.join(repoRoot, "build", "lib"), path.join(root, "build", "lib"), { recursive: true });
        fs.writeFileSync(path.join(root, "build", BUILD_STAMP), "");
        const entry = path.join(root, "build", "cli", "artifact.js");
        let r = spawnSync(process.execPath, [entry, "--help"], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);

        const later = Date.now() / 1000 + 60;
        fs.mkdirSync(path.join(root, "lib", "oci", "transport"), { recursive: true });
        fs.writeFileSync(path.join(root, "lib", "oci", "transport", "redact.ts"), "");
        fs.utimesSync(path.join(root, "lib", "oci", "transport", "redact.ts"), later, later);
        r = spawnSync(process.execPath, [entry, "--help"], { encoding: "utf8" });
        assert.equal(r.status, 1);
        assert.equal(r.stdout, "");
        assert.equal(r.stderr, `error: the compiled CLI is older than ${path.join("lib", "oci", "transport", "redact.ts")}; run npm run build (npm install also builds)\n`);

        fs.utimesSync(path.join(root, "build", BUILD_STAMP), later + 1, later + 1);
        r = spawnSync(process.execPath, [entry, "--help"], { encoding: "utf8" });
        assert.equal(r.status, 0, "a new build stamp clears it");
    });
});
