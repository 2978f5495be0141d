/**
 * The `artifact` CLI end to end: spawned as `node build/cli/artifact.js …` against real registries
 * (anonymous HTTP and htpasswd over TLS), checking exit codes, JSON shapes and that no secret is
 * ever printed.
 */
import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import { buildArtifact } from "../../lib/artifact";
import { writePolicyLibrary } from "../fixtures/library";
import { repoRoot, samplePoliciesDir } from "../harness/paths";
import { assertSameTree, changedSampleCopy, tempDir } from "../support/registry-artifact";
import { run, type RunResult as ExecResult } from "../harness/processes";
import { startRegistry, type RegistryHandle } from "../harness/registry";
import { startCountingProxy, type CountingProxy } from "../harness/registry-proxy";
import { skopeoInspectRaw } from "../support/skopeo";

const cliPath = path.join(repoRoot, "build", "cli", "artifact.js");

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ExecResult> {
    // An empty DOCKER_CONFIG dir by default, so a developer's own docker login never leaks into a test.
    return run(process.execPath, [cliPath, ...args], { env: { ...process.env, DOCKER_CONFIG: emptyDockerConfig, ...env }, timeoutMs: 60_000 });
}

let emptyDockerConfig = "";

describe("artifact CLI", () => {
    let anon: RegistryHandle;
    let tls: RegistryHandle;
    let proxy: CountingProxy;
    let changedDir: string;
    const tmp = tempDir("cli-artifact");
    const fixed = ["--source", "https://example.invalid/repo.git", "--revision", "main@sha1:1111111111111111111111111111111111111111", "--created", "2024-05-06T07:08:09Z"];

    before(async () => {
        emptyDockerConfig = path.join(tmp, "docker-empty");
        fs.mkdirSync(emptyDockerConfig);
        anon = await startRegistry({ mode: "anonymous" });
        tls = await startRegistry({ mode: "basic-tls" });
        proxy = await startCountingProxy({ upstream: anon.baseUrl });
        changedDir = changedSampleCopy();
    });
    after(async () => {
        await proxy?.stop();
        await anon?.stop();
        await tls?.stop();
        if (changedDir) fs.rmSync(changedDir, { recursive: true, force: true });
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("--help for the tool and each command exits 0 and lists the flags", async () => {
        const top = await cli(["--help"]);
        assert.equal(top.code, 0);
        for (const c of ["build", "push", "diff", "pull"]) assert.match(top.stdout, new RegExp(`\\b${c}\\b`));
        for (const [cmd, flags] of [
            ["build", ["--path", "--output", "--out", "--source", "--revision"]],
            ["push", ["--path", "--url", "--tag", "--creds", "--insecure", "--ca-file", "--force", "--output"]],
            ["diff", ["--path", "--url", "--tag", "--creds"]],
            ["pull", ["--url", "--tag", "--output-dir", "--creds"]],
        ] as const) {
            const r = await cli([cmd, "--help"]);
            assert.equal(r.code, 0, r.stderr);
            for (const f of flags) assert.ok(r.stdout.includes(f), `${cmd} --help lacks ${f}`);
        }
    });

    it("usage errors exit 2 with one line on stderr", async () => {
        const cases: [string[], RegExp][] = [
            [[], /Usage: artifact/],
            [["frobnicate"], /unknown command "frobnicate"/],
            [["push", "--path", samplePoliciesDir, "--url", anon.url("x"), "--tag", "v1", "--bogus"], /unknown flag --bogus/],
            [["push", "--path", samplePoliciesDir, "--tag", "v1"], /missing required flag --url/],
            [["push", "--path", samplePoliciesDir, "--url", `http://${anon.host}/x`, "--tag", "v1"], /not an http\(s\):\/\/ URL/],
            [["push", "--path", samplePoliciesDir, "--url", anon.url("a/../b"), "--tag", "v1"], /path traversal/],
            [["build", "--path", path.join(tmp, "missing")], /no such directory/],
            [["build", "--path", samplePoliciesDir, "--output", "yaml"], /--output supports only "json"/],
            [["build", "--path", samplePoliciesDir, "stray"], /unexpected argument "stray"/],
        ];
        for (const [args, msg] of cases) {
            const r = await cli(args);
            assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
            assert.match(r.stderr, msg);
            if (args.length > 0) assert.match(r.stderr.split("\n")[0]!, /^error: /);
        }
    });

    it("a policy library with test fixtures beside the policies: grouped lines, --output json with every problem, no registry request", async () => {
        const dir = path.join(tmp, "library");
        const lib = writePolicyLibrary(dir);
        proxy.reset();
        const human = await cli(["push", "--path", dir, "--url", proxy.url("cli/library"), "--tag", "v1", ...fixed]);
        assert.equal(human.code, 1, human.stderr);
        assert.equal(human.stdout, "");
        const lines = human.stderr.trimEnd().split("\n");
        assert.match(lines[0]!, /^error: \d+ problems in policy directory .* \(\d+ files\):$/);
        assert.ok(lines.length < 150 && Math.max(...lines.map((l) => l.length)) <= 300, `${lines.length} lines, no wall of text`);
        assert.equal(lines.filter((l) => l.includes("only Kyverno policy kinds")).length, 1, "the explanation once");
        assert.ok(lines.includes("  … and 284 more"), human.stderr);
        const pasted = lines.slice(lines.findIndex((l) => l.startsWith("To leave them out")) + 2, lines.indexOf("", lines.length - 3));
        assert.deepEqual(pasted, ["**/.chainsaw-test/", "**/.kyverno-test/", "artifacthub-pkg.yml", "*-assert.yaml"]);

        const json = await cli(["build", "--path", dir, "--output", "json"]);
        assert.equal(json.code, 1);
        assert.match(json.stderr, /^error: \d+ problems in policy directory .*; the full list is the JSON on stdout\n$/);
        const j = JSON.parse(json.stdout) as { problems: { file: string; line: number | null; cause: string; message: string }[]; suggestions: { pattern: string }[] };
        assert.equal(j.problems.length, Number(/^error: (\d+)/.exec(lines[0]!)![1]));
        assert.deepEqual(new Set(j.problems.map((x) => x.file)), new Set([...lib.nonPolicyFiles, ...lib.testKustomizations]));
        assert.deepEqual(j.suggestions.map((x) => x.pattern), pasted);
        assert.equal(proxy.stats.requests, 0, "nothing reaches the registry");

        fs.writeFileSync(path.join(dir, ".sourceignore"), pasted.join("\n") + "\n");
        const ok = await cli(["build", "--path", dir, "--output", "json"]);
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal(JSON.parse(ok.stdout).policies, lib.policyNames.length);
    });

    it("build --output json prints the digests buildArtifact computes", async () => {
        const out = path.join(tmp, "layer.tgz");
        const r = await cli(["build", "--path", samplePoliciesDir, "--output", "json", "--out", out, ...fixed]);
        assert.equal(r.code, 0, r.stderr);
        const j = JSON.parse(r.stdout);
        const b = await buildArtifact(samplePoliciesDir, { source: fixed[1], revision: fixed[3], created: fixed[5], outFile: path.join(tmp, "ref.tgz") });
        assert.equal(j.digest, b.manifestDigest);
        assert.equal(j.layerDigest, b.layer.digest);
        assert.equal(j.configDigest, b.configDescriptor.digest);
        assert.equal(j.policies, 12);
        assert.ok(fs.readFileSync(out).equals(fs.readFileSync(b.layer.path)), "--out keeps the exact layer");
    });

    it("push --output json prints {url, repository, tag, digest} like flux; re-push makes 1 request", async () => {
        const url = proxy.url("cli/sample");
        const r = await cli(["push", "--path", samplePoliciesDir, "--url", url, "--tag", "v1", "--output", "json", ...fixed]);
        assert.equal(r.code, 0, r.stderr);
        const j = JSON.parse(r.stdout);
        assert.deepEqual(Object.keys(j).sort(), ["digest", "repository", "tag", "url"]);
        assert.match(j.digest, /^sha256:[a-f0-9]{64}$/);
        assert.equal(j.repository, `${proxy.host}/cli/sample`);
        assert.equal(j.tag, "v1");
        assert.equal(j.url, `oci://${proxy.host}/cli/sample@${j.digest}`);
        const inspected = await skopeoInspectRaw(anon, "cli/sample", "v1");
        assert.equal(inspected.json.annotations["org.opencontainers.image.revision"], fixed[3]);

        proxy.reset();
        const again = await cli(["push", "--path", samplePoliciesDir, "--url", url, "--tag", "v1", "--stats", ...fixed]);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stdout, /already points at/);
        assert.match(again.stderr, /requests=1 .*blobs_uploaded=0 .*bytes_uploaded=0/);
        assert.equal(proxy.stats.requests, 1);
    });

    it("push to a moved tag fails without --force (exit 1, names the tag) and succeeds with it", async () => {
        const url = anon.url("cli/sample");
        const r = await cli(["push", "--path", changedDir, "--url", url, "--tag", "v1", ...fixed]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /^error: tag "v1" .* already points at sha256:[a-f0-9]{64}, not at the pushed sha256:[a-f0-9]{64}; pass --force/);
        assert.equal(r.stderr.trim().split("\n").length, 1, "one line");
        const forced = await cli(["push", "--path", changedDir, "--url", url, "--tag", "v1", "--force", "--output", "json", ...fixed]);
        assert.equal(forced.code, 0, forced.stderr);
        const movedTo = JSON.parse(forced.stdout).digest as string;
        const raw = (await skopeoInspectRaw(anon, "cli/sample", "v1")).raw;
        assert.equal(`sha256:${crypto.createHash("sha256").update(raw).digest("hex")}`, movedTo, "the tag now points at the forced push");
        // Back to the sample for the diff test.
        const back = await cli(["push", "--path", samplePoliciesDir, "--url", url, "--tag", "v1", "--force", ...fixed]);
        assert.equal(back.code, 0, back.stderr);
    });

    it("diff: exit 0 when equal, exit 1 with a per-policy report when different", async () => {
        const url = anon.url("cli/sample");
        const same = await cli(["diff", "--path", samplePoliciesDir, "--url", url, "--tag", "v1"]);
        assert.equal(same.code, 0, same.stderr + same.stdout);
        assert.match(same.stdout, /no differences/);
        const diff = await cli(["diff", "--path", changedDir, "--url", url, "--tag", "v1"]);
        assert.equal(diff.code, 1, diff.stderr);
        assert.match(diff.stdout, /policies: \+0 ~1 -0/);
        assert.match(diff.stdout, /~ ClusterPolicy\/require-labels/);
        assert.match(diff.stdout, /enforcement: Audit -> Enforce/);
        const missing = await cli(["diff", "--path", samplePoliciesDir, "--url", url, "--tag", "nope"]);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /not found: .*nope.*cli\/sample/);
    });

    it("pull --output-dir extracts files equal to the source", async () => {
        const out = path.join(tmp, "pulled");
        const r = await cli(["pull", "--url", anon.url("cli/sample"), "--tag", "v1", "--output-dir", out, "--output", "json"]);
        assert.equal(r.code, 0, r.stderr);
        const j = JSON.parse(r.stdout);
        assert.equal(j.tag, "v1");
        assert.equal(j.revision, fixed[3]);
        assertSameTree(samplePoliciesDir, out);
    });

    it("TLS + Basic: --creds/--ca-file work; a wrong password exits 1 without printing any secret", async () => {
        const url = tls.url("cli/secure");
        const good = `${tls.username}:${tls.password}`;
        const ok = await cli(["push", "--path", samplePoliciesDir, "--url", url, "--tag", "v1", "--creds", good, "--ca-file", tls.caFile!, "--output", "json", "--verbose", ...fixed]);
        assert.equal(ok.code, 0, ok.stderr);
        for (const t of [ok.stdout, ok.stderr]) {
            assert.ok(!t.includes(tls.password!) && !t.includes(Buffer.from(good).toString("base64")), "no secret in normal output");
        }
        const wrongPw = `bad-${tls.password}`;
        const wrong = `${tls.username}:${wrongPw}`;
        const bad = await cli(["push", "--path", samplePoliciesDir, "--url", url, "--tag", "v2", "--creds", wrong, "--ca-file", tls.caFile!, "--verbose", ...fixed]);
        assert.equal(bad.code, 1);
        const errLines = bad.stderr.split("\n").filter((l) => l.startsWith("error: "));
        assert.equal(errLines.length, 1, bad.stderr);
        assert.ok(errLines[0]!.includes(tls.host) && errLines[0]!.includes("cli/secure") && errLines[0]!.includes("--creds"), errLines[0]);
        for (const t of [bad.stdout, bad.stderr]) {
            assert.ok(!t.includes(wrongPw), "password printed");
            assert.ok(!t.includes(Buffer.from(wrong).toString("base64")), "base64(user:pass) printed");
        }
        const noCa = await cli(["diff", "--path", samplePoliciesDir, "--url", url, "--tag", "v1", "--creds", good]);
        assert.equal(noCa.code, 1);
        assert.match(noCa.stderr, /--ca-file/);
    });

    it("credentials come from $DOCKER_CONFIG/config.json when --creds is absent", async () => {
        const cfg = path.join(tmp, "docker-cfg");
        fs.mkdirSync(cfg);
        fs.writeFileSync(path.join(cfg, "config.json"), JSON.stringify({ auths: { [tls.host]: { auth: Buffer.from(`${tls.username}:${tls.password}`).toString("base64") } } }));
        const out = path.join(tmp, "pulled-dockercfg");
        const r = await cli(["pull", "--url", tls.url("cli/secure"), "--tag", "v1", "--output-dir", out, "--ca-file", tls.caFile!], { DOCKER_CONFIG: cfg });
        assert.equal(r.code, 0, r.stderr);
        assertSameTree(samplePoliciesDir, out);
        const none = await cli(["pull", "--url", tls.url("cli/secure"), "--tag", "v1", "--output-dir", path.join(tmp, "x"), "--ca-file", tls.caFile!]);
        assert.equal(none.code, 1);
        assert.match(none.stderr, /authentication required/);
    });
});
