/**
 * Hostile or broken input, one matrix: policy trees (committed under test/fixtures/hostile/<case>/,
 * or generated in a temp dir for symlinks, a 50 MB file and an empty directory), crafted layer
 * tarballs on the pull side, bad CLI tags and URLs, and stack config (lib/config parseStackConfig).
 *
 * Every bad input ends in a clear error before any registry write: CLI pushes go to a counting
 * proxy in front of the real registry, which must see zero requests (so zero PUT/POST/PATCH), and
 * the CLI's temp dir (TMPDIR) must be empty afterwards. Policy trees are also fed to the program's
 * own entry point (lib/publish prepareArtifact), which must fail with the same problem before any
 * resource exists. Two inputs are hostile-looking but valid and must work: CRLF line endings
 * (reproducible digests) and a password containing ':' and '@' (end to end against htpasswd over
 * TLS, never printed). The matrix is printed at the end.
 */
import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { after, before, describe, it } from "node:test";

import { buildConfigBlob, buildManifestBlob, encodeHeader, FLUX_CONFIG_MEDIA_TYPE, FLUX_CONTENT_MEDIA_TYPE, TypeFlag, type RawHeader } from "../../lib/artifact";
import { ConfigError, parseStackConfig } from "../../lib/config";
import { pushImage } from "../../lib/oci";
import { prepareArtifact } from "../../lib/publish";
import { dockerConfigJson } from "../../lib/dockerconfig";
import { formatTable } from "../support/fault-integrity";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy";
import { repoRoot } from "../harness/paths";
import { tempDir } from "../support/registry-artifact";
import { run, type RunResult as ExecResult } from "../harness/processes";
import { startRegistry, type RegistryHandle } from "../harness/registry";
import { skopeoInspectRaw } from "../support/skopeo";
import { scanForSecrets, formatHit } from "../support/secrets-scan";

const cliPath = path.join(repoRoot, "build", "cli", "artifact.js");
const hostile = path.join(repoRoot, "test", "fixtures", "hostile");
const FIXED = ["--source", "https://example.invalid/policy-stack.git", "--revision", "main@sha1:0123456789abcdef0123456789abcdef01234567", "--created", "2024-01-02T03:04:05Z"];

const POLICY = (name: string) =>
    [
        "apiVersion: kyverno.io/v1",
        "kind: ClusterPolicy",
        "metadata:",
        `  name: ${name}`,
        "spec:",
        "  rules:",
        "    - name: check",
        "      match: {any: [{resources: {kinds: [Pod]}}]}",
        '      validate: {message: m, pattern: {metadata: {name: "?*"}}}',
        "",
    ].join("\n");

describe("hardening: hostile and broken input", () => {
    let reg: RegistryHandle;
    let tls: RegistryHandle;
    let proxy: FaultProxy;
    const tmp = tempDir("hardening-hostile");
    const dockerEmpty = path.join(tmp, "docker-empty");
    const table: string[][] = [];
    let caseNo = 0;
    // The password of the TLS registry: ':' and '@' in it, several times.
    const PASSWORD = `p:a@ss:w@rd-${crypto.randomBytes(6).toString("base64url")}`;

    /** Machine paths out of messages shown in the table. */
    const tidy = (s: string) =>
        s
            .split(tmp)
            .join("<tmp>")
            .split(hostile)
            .join("<hostile>")
            .replace(/sha256:[a-f0-9]{64}/g, "sha256:…")
            .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<port>");
    const record = (name: string, input: string, via: string, outcome: string, message: string, writes: string) =>
        table.push([String(++caseNo), name, input, via, outcome, tidy(message).replace(/\s*\n\s*/g, " ").slice(0, 230), writes]);

    /** Runs the CLI with its own empty TMPDIR and docker config; returns the result and the leftovers in TMPDIR. */
    async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ExecResult & { leftovers: string[] }> {
        const t = fs.mkdtempSync(path.join(tmp, "cli-tmp-"));
        const r = await run(process.execPath, [cliPath, ...args], { env: { ...process.env, DOCKER_CONFIG: dockerEmpty, TMPDIR: t, ...env }, timeoutMs: 120_000 });
        return { ...r, leftovers: fs.readdirSync(t) };
    }

    before(async () => {
        fs.mkdirSync(dockerEmpty);
        reg = await startRegistry({ mode: "anonymous" });
        tls = await startRegistry({ mode: "basic-tls", password: PASSWORD });
        proxy = await startFaultProxy({ upstream: reg.baseUrl });
    });
    after(async () => {
        if (table.length) {
            console.log(`\nHostile and broken input (${table.length} cases)\n${formatTable(["#", "case", "input", "via", "outcome", "message", "registry writes"], table)}\n`);
        }
        await proxy?.stop();
        await reg?.stop();
        await tls?.stop();
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    // ---------------------------------------------------------------- policy trees, push side
    interface TreeCase {
        name: string;
        /** Committed fixture dir name, or a generator returning a temp dir. */
        tree: string | (() => string);
        message: RegExp;
    }
    const gen = (name: string, build: (dir: string) => void) => () => {
        const dir = path.join(tmp, `tree-${name}`);
        fs.mkdirSync(dir);
        build(dir);
        return dir;
    };
    const treeCases: TreeCase[] = [
        { name: "invalid YAML (error with file:line)", tree: "invalid-yaml", message: /^  what to do: fix the syntax .*\n  broken\.yaml:8: invalid YAML: bad indentation of a sequence entry$/m },
        { name: "duplicate mapping key", tree: "duplicate-keys", message: /dup\.yaml:7: invalid YAML: duplicated mapping key/ },
        { name: "non-Kyverno kind (ConfigMap)", tree: "non-kyverno-kind", message: /^  what to do: .*\.sourceignore\n  configmap\.yaml:2: ConfigMap \(v1\) is not a Kyverno policy$/m },
        { name: "Secret slipped into policies/", tree: "secret-in-policies", message: /registry-secret\.yaml:2: Secret \(v1\) is not a Kyverno policy/ },
        { name: "workload in a policy file's 2nd document", tree: "workload-in-policies", message: /policies\.yaml:21: Deployment \(apps\/v1\) is not a Kyverno policy/ },
        { name: "duplicate policy names", tree: "duplicate-names", message: /team-b\/require-app-label\.yaml:2: duplicate ClusterPolicy "require-app-label": also defined in require-app-label\.yaml:1/ },
        { name: "empty directory", tree: gen("empty", () => undefined), message: /\.: no Kyverno policies found \(files skipped: 0 not-yaml, 0 ignored, 0 empty\)/ },
        { name: "directory with only a README", tree: "only-readme", message: /no Kyverno policies found \(files skipped: 1 not-yaml/ },
        {
            name: "symlink pointing outside",
            tree: gen("symlink-outside", (d) => {
                fs.writeFileSync(path.join(d, "ok.yaml"), POLICY("ok"));
                fs.writeFileSync(path.join(tmp, "outside.yaml"), POLICY("outside"));
                fs.symlinkSync(path.join(tmp, "outside.yaml"), path.join(d, "outside.yaml"));
                fs.symlinkSync("/etc/passwd", path.join(d, "passwd.yaml"));
            }),
            message: /^  outside\.yaml: symlink points outside the policy directory.*\n  passwd\.yaml: symlink points outside the policy directory \(to "\/etc\/passwd"\)/m,
        },
        {
            name: "symlink loop",
            tree: gen("symlink-loop", (d) => {
                fs.writeFileSync(path.join(d, "ok.yaml"), POLICY("ok"));
                fs.mkdirSync(path.join(d, "sub"));
                fs.symlinkSync("..", path.join(d, "sub", "up"));
                fs.symlinkSync("b.yaml", path.join(d, "a.yaml"));
                fs.symlinkSync("a.yaml", path.join(d, "b.yaml"));
            }),
            message: /^  a\.yaml: symlink is part of a symlink loop.*\n  b\.yaml: symlink is part of a symlink loop.*\n  sub\/up: symlink loop: the link points to one of its own parent directories/m,
        },
        {
            name: "dangling symlink",
            tree: gen("dangling", (d) => {
                fs.writeFileSync(path.join(d, "ok.yaml"), POLICY("ok"));
                fs.symlinkSync("gone.yaml", path.join(d, "link.yaml"));
            }),
            message: /link\.yaml: symlink is dangling \(target "gone\.yaml" does not exist\)/,
        },
        {
            name: "50 MB file",
            tree: gen("big", (d) => {
                fs.writeFileSync(path.join(d, "ok.yaml"), POLICY("ok"));
                const fd = fs.openSync(path.join(d, "huge.yaml"), "w");
                const chunk = Buffer.alloc(1 << 20, "# padding padding padding padding\n");
                for (let i = 0; i < 50; i++) fs.writeSync(fd, chunk);
                fs.closeSync(fd);
            }),
            message: /huge\.yaml: file is 52428800 bytes, over the 10485760-byte limit \(maxFileSize\)/,
        },
        { name: "YAML bomb (alias expansion)", tree: "yaml-bomb", message: /bomb\.yaml:1: document expands to more than 250000 YAML nodes through aliases \(possible "YAML bomb"\)/ },
        { name: "non-UTF-8 bytes (Latin-1)", tree: "non-utf8", message: /latin1\.yaml:6: not valid UTF-8 \(byte 0xe9 at offset \d+\); save the file as UTF-8/ },
        { name: "UTF-16 file", tree: "utf16", message: /utf16\.yaml:1: not valid UTF-8 \(byte 0xff at offset 0\)/ },
        { name: "unsafe YAML tag (!!js/function)", tree: "unsafe-yaml-tag", message: /exec\.yaml:10: invalid YAML: unknown tag !<tag:yaml\.org,2002:js\/function>/ },
        { name: "kustomization resource outside the tree", tree: "kustomization-escape", message: /kustomization\.yaml:5: resources entry "\.\.\/\.\.\/\.\.\/\.\.\/etc\/kubernetes\/admin\.yaml" points outside the policy directory/ },
        { name: "unknown enforcement value in a policy", tree: "unknown-failure-action", message: /policy\.yaml:6: spec\.validationFailureAction "Block" is invalid; use Audit or Enforce/ },
    ];

    for (const c of treeCases) {
        it(`policy tree: ${c.name} → clear error, no registry request, nothing left behind`, async () => {
            const dir = typeof c.tree === "string" ? path.join(hostile, c.tree) : c.tree();
            proxy.reset();
            const r = await cli(["push", "--path", dir, "--url", proxy.url("hostile/policies"), "--tag", "1.0.0", ...FIXED]);
            assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
            assert.equal(r.stdout, "", "nothing on stdout (no 'pushing' line before validation)");
            // The grouped report: a summary line, then one line per problem (under its cause).
            const lines = r.stderr.trim().split("\n");
            const count = Number(/^error: (\d+) problems? in policy directory /.exec(lines[0]!)?.[1]);
            const problemLines = lines.filter((l) => /^  [^ ]/.test(l) && !/^  (why|what to do): /.test(l));
            assert.equal(problemLines.length, count, `one line per problem: ${r.stderr}`);
            assert.match(r.stderr, c.message);
            assert.equal(proxy.entries.length, 0, `registry requests: ${proxy.entries.map((e) => `${e.method} ${e.path}`).join(", ")}`);
            assert.deepEqual(r.leftovers, [], "the CLI left temp files behind");
            // The program's entry point refuses the same tree before any resource exists.
            await assert.rejects(prepareArtifact(dir), (e: Error) => {
                assert.match(e.message, c.message);
                return true;
            });
            record(c.name, typeof c.tree === "string" ? `fixtures/hostile/${c.tree}/` : "generated tree", "CLI push + prepareArtifact", "exit 1", problemLines.join("; "), `0 (0 requests)`);
        });
    }

    it("policy tree: --path is a file → usage error, no registry request", async () => {
        proxy.reset();
        const file = path.join(hostile, "invalid-yaml", "ok.yaml");
        const r = await cli(["push", "--path", file, "--url", proxy.url("hostile/policies"), "--tag", "1.0.0"]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /^error: --path .*ok\.yaml: not a directory/);
        assert.equal(proxy.entries.length, 0);
        assert.deepEqual(r.leftovers, []);
        record("--path is a file", "fixtures/hostile/invalid-yaml/ok.yaml", "CLI push", "exit 2", r.stderr.split("\n")[0]!.replace(/^error: /, ""), "0 (0 requests)");
    });

    it("CRLF line endings: valid, and the digest is the LF checkout's (twice, from a copy with other mtimes, from an LF copy)", async () => {
        const dir = path.join(hostile, "crlf");
        for (const f of fs.readdirSync(dir)) assert.ok(fs.readFileSync(path.join(dir, f)).includes("\r\n"), `fixture ${f} must keep CRLF (see .gitattributes)`);
        const build = async (d: string) => {
            const r = await cli(["build", "--path", d, "--output", "json", ...FIXED]);
            assert.equal(r.code, 0, r.stderr);
            assert.deepEqual(r.leftovers, []);
            return JSON.parse(r.stdout) as { digest: string; layerDigest: string; policies: number };
        };
        const one = await build(dir);
        const two = await build(dir);
        const copy = path.join(tmp, "crlf-copy");
        fs.cpSync(dir, copy, { recursive: true });
        for (const f of fs.readdirSync(copy)) fs.utimesSync(path.join(copy, f), new Date(2001, 1, 1), new Date(2001, 1, 1));
        const three = await build(copy);
        // The same policies as an LF checkout would hold them (git's text=auto stores LF).
        const lfCopy = path.join(tmp, "crlf-as-lf");
        fs.mkdirSync(lfCopy);
        const lfBytes = (f: string) => Buffer.from(fs.readFileSync(path.join(dir, f), "utf8").replace(/\r\n/g, "\n"));
        for (const f of fs.readdirSync(dir)) fs.writeFileSync(path.join(lfCopy, f), lfBytes(f));
        const lf = await build(lfCopy);
        assert.equal(one.policies, 2);
        assert.equal(two.digest, one.digest);
        assert.equal(three.digest, one.digest);
        assert.equal(lf.layerDigest, one.layerDigest);
        assert.equal(lf.digest, one.digest);
        // Push and pull it: what comes back is the LF text, not the checkout's CRLF bytes.
        proxy.reset();
        const pushed = await cli(["push", "--path", dir, "--url", proxy.url("hostile/crlf"), "--tag", "1.0.0", "--output", "json", ...FIXED]);
        assert.equal(pushed.code, 0, pushed.stderr);
        assert.equal(JSON.parse(pushed.stdout).digest, one.digest);
        const out = path.join(tmp, "crlf-pulled");
        const pulled = await cli(["pull", "--url", reg.url("hostile/crlf"), "--tag", "1.0.0", "--output-dir", out]);
        assert.equal(pulled.code, 0, pulled.stderr);
        assert.deepEqual(fs.readdirSync(out).sort(), fs.readdirSync(dir).sort());
        for (const f of fs.readdirSync(dir)) {
            const got = fs.readFileSync(path.join(out, f));
            assert.ok(got.equals(lfBytes(f)), `${f}: pulled bytes are not the LF text`);
            assert.equal(got.includes("\r"), false, `${f}: a CR survived`);
        }
        // diff (and so the preview's comparison) sees no change from either checkout.
        for (const d of [dir, lfCopy]) {
            const r = await cli(["diff", "--path", d, "--url", reg.url("hostile/crlf"), "--tag", "1.0.0"]);
            assert.equal(r.code, 0, r.stdout + r.stderr);
            assert.match(r.stdout, /no differences/);
        }
        record(
            "CRLF line endings (valid)",
            "fixtures/hostile/crlf/",
            "CLI build ×4, push, pull, diff ×2",
            "exit 0",
            `same digest ${one.digest} from 2 builds, a copy with other mtimes and an LF copy; pull gives LF; diff: no differences`,
            `${proxy.writes().length} (expected)`,
        );
    });

    // ---------------------------------------------------------------- crafted layers, pull side
    async function pushCrafted(repo: string, entries: { h: Partial<RawHeader> & { name: string }; body?: string }[]): Promise<void> {
        const parts: Buffer[] = [];
        for (const e of entries) {
            const body = Buffer.from(e.body ?? "");
            parts.push(encodeHeader({ typeflag: TypeFlag.File, mode: 0o644, size: body.length, ...e.h }));
            parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
        }
        parts.push(Buffer.alloc(1024));
        const tar = Buffer.concat(parts);
        const tgz = zlib.gzipSync(tar);
        const sha = (b: Buffer) => `sha256:${crypto.createHash("sha256").update(b).digest("hex")}`;
        const layerFile = path.join(tmp, `${repo.replace(/\//g, "_")}.tgz`);
        fs.writeFileSync(layerFile, tgz);
        const config = buildConfigBlob("2024-01-02T03:04:05Z", sha(tar));
        const configRef = { mediaType: FLUX_CONFIG_MEDIA_TYPE, digest: sha(config), size: config.length };
        const layerRef = { mediaType: FLUX_CONTENT_MEDIA_TYPE, digest: sha(tgz), size: tgz.length };
        const manifest = buildManifestBlob(configRef, [layerRef], { "org.opencontainers.image.source": "https://example.invalid/evil.git" });
        await pushImage({ url: reg.url(repo), tag: "1.0.0", manifest, config, layers: [{ ...layerRef, path: layerFile }] });
    }

    const abs = () => path.join(tmp, "absolute-target.yaml");
    const craftedCases: { name: string; entries: () => { h: Partial<RawHeader> & { name: string }; body?: string }[]; message: RegExp; mustNotExist: () => string[] }[] = [
        {
            name: "tar entry with '..'",
            entries: () => [{ h: { name: "ok.yaml" }, body: POLICY("ok") }, { h: { name: "../escape.yaml" }, body: POLICY("escape") }],
            message: /layer entry "\.\.\/escape\.yaml": path escapes the destination \('\.\.'\)/,
            mustNotExist: () => [path.join(tmp, "pull-out", "escape.yaml"), path.join(tmp, "escape.yaml")],
        },
        {
            name: "tar entry with a leading '/'",
            entries: () => [{ h: { name: abs() }, body: POLICY("abs") }],
            message: /layer entry ".*absolute-target\.yaml": absolute path/,
            mustNotExist: () => [abs()],
        },
        {
            name: "tar symlink entry to /etc/passwd",
            entries: () => [{ h: { name: "passwd.yaml", typeflag: TypeFlag.Symlink, linkname: "/etc/passwd", size: 0 } }],
            message: /layer entry "passwd\.yaml": SymbolicLink entries are not allowed \(only regular files and directories\)/,
            mustNotExist: () => [],
        },
    ];
    for (const c of craftedCases) {
        it(`pull side: ${c.name} → clear error, nothing extracted, output dir not left behind`, async () => {
            const repo = `hostile/crafted-${c.name.replace(/[^a-z]+/gi, "-").toLowerCase().replace(/^-|-$/g, "")}`;
            await pushCrafted(repo, c.entries());
            const out = path.join(tmp, "pull-out", "here");
            proxy.reset();
            const r = await cli(["pull", "--url", proxy.url(repo), "--tag", "1.0.0", "--output-dir", out]);
            assert.equal(r.code, 1, r.stderr);
            assert.match(r.stderr.trim(), new RegExp(`^error: ${c.message.source}$`));
            assert.equal(fs.existsSync(path.join(tmp, "pull-out")), false, "the CLI created the output dir and must remove it again");
            for (const p of c.mustNotExist()) assert.equal(fs.existsSync(p), false, `${p} was written`);
            assert.equal(proxy.writes().length, 0);
            assert.deepEqual(r.leftovers, []);
            // diff reads the same layer: same refusal.
            const d = await cli(["diff", "--path", path.join(hostile, "crlf"), "--url", proxy.url(repo), "--tag", "1.0.0"]);
            assert.equal(d.code, 1);
            assert.match(d.stderr, c.message);
            assert.deepEqual(d.leftovers, []);
            record(c.name, "crafted layer in the registry", "CLI pull, diff", "exit 1", r.stderr.trim().replace(/^error: /, ""), `0 (${proxy.entries.length} reads)`);
        });
    }

    // ---------------------------------------------------------------- CLI tags and URLs
    const sample = () => path.join(hostile, "crlf");
    const argCases: { name: string; args: () => string[]; code: number; message: RegExp; input: () => string }[] = [
        {
            name: "tag that is not a valid OCI tag (semver build metadata '+')",
            input: () => "--tag 1.0.0+build.5",
            args: () => ["--url", proxy.url("hostile/tags"), "--tag", "1.0.0+build.5"],
            code: 2,
            message: /^error: invalid tag "1\.0\.0\+build\.5"$/,
        },
        {
            name: "tag with a path",
            input: () => "--tag ../../latest",
            args: () => ["--url", proxy.url("hostile/tags"), "--tag", "../../latest"],
            code: 2,
            message: /^error: invalid tag "\.\.\/\.\.\/latest"$/,
        },
        {
            name: "http:// URL",
            input: () => "--url http://127.0.0.1:<port>/x",
            args: () => ["--url", `http://${proxy.host}/hostile/x`, "--tag", "1.0.0"],
            code: 2,
            message: /use oci:\/\/HOST\/REPOSITORY, not an http\(s\):\/\/ URL/,
        },
        {
            name: "URL without oci://",
            input: () => "--url 127.0.0.1:<port>/x",
            args: () => ["--url", `${proxy.host}/hostile/x`, "--tag", "1.0.0"],
            code: 2,
            message: /must start with oci:\/\//,
        },
        {
            name: "registry URL with path traversal",
            input: () => "--url oci://127.0.0.1:<port>/hostile/../../etc",
            args: () => ["--url", `oci://${proxy.host}/hostile/../../etc`, "--tag", "1.0.0"],
            code: 2,
            message: /path traversal segment "\.\." in repository/,
        },
        {
            name: "registry host with a traversal-looking host part",
            input: () => "--url oci://..%2f..%2fetc/x",
            args: () => ["--url", "oci://..%2f..%2fetc/x", "--tag", "1.0.0"],
            code: 2,
            message: /query strings, fragments, backslashes, spaces and %-escapes are not allowed/,
        },
        {
            name: "credentials inside the URL",
            input: () => "--url oci://bob:<password>@127.0.0.1:<port>/x",
            args: () => ["--url", `oci://bob:${PASSWORD}@${proxy.host}/hostile/x`, "--tag", "1.0.0"],
            code: 2,
            message: /^error: invalid OCI URL "oci:\/\/\*\*\*@127\.0\.0\.1:\d+\/hostile\/x": credentials in the URL are not allowed; use --creds$/,
        },
        {
            name: "malformed --creds (no ':')",
            input: () => "--creds <password without user>",
            args: () => ["--url", proxy.url("hostile/x"), "--tag", "1.0.0", "--creds", PASSWORD.replace(/:/g, "")],
            code: 1,
            message: /^error: invalid --creds: expected USER:PASSWORD \(value not shown\)$/,
        },
    ];
    for (const c of argCases) {
        it(`CLI: ${c.name} → clear error before any registry request`, async () => {
            proxy.reset();
            const r = await cli(["push", "--path", sample(), ...c.args(), ...FIXED]);
            assert.equal(r.code, c.code, r.stderr);
            assert.match(r.stderr.split("\n")[0]!, c.message);
            assert.equal(proxy.entries.length, 0);
            assert.deepEqual(r.leftovers, []);
            assert.deepEqual(scanForSecrets({ texts: { stdout: r.stdout, stderr: r.stderr } }, { username: "bob", password: PASSWORD }).map(formatHit), []);
            record(c.name, c.input(), "CLI push", `exit ${c.code}`, r.stderr.split("\n")[0]!.replace(/^error: /, ""), "0 (0 requests)");
        });
    }

    it("password containing ':' and '@' works end to end (htpasswd over TLS) and is never printed", async () => {
        const creds = `${tls.username}:${PASSWORD}`;
        const url = tls.url("hostile/colon-at");
        const outputs: Record<string, string> = {};
        const pushed = await cli(["push", "--path", sample(), "--url", url, "--tag", "1.0.0", "--creds", creds, "--ca-file", tls.caFile!, "--verbose", "--stats", ...FIXED]);
        outputs["push stdout"] = pushed.stdout;
        outputs["push stderr"] = pushed.stderr;
        assert.equal(pushed.code, 0, pushed.stderr);
        assert.match(pushed.stdout, /artifact successfully pushed/);
        // Docker config path: auth = base64(user:pass) with the colons and ats inside.
        const cfgDir = path.join(tmp, "docker-colon-at");
        fs.mkdirSync(cfgDir);
        fs.writeFileSync(path.join(cfgDir, "config.json"), dockerConfigJson(tls.host, tls.username!, PASSWORD));
        const out = path.join(tmp, "colon-at-pulled");
        const pulled = await cli(["pull", "--url", url, "--tag", "1.0.0", "--output-dir", out, "--ca-file", tls.caFile!, "--verbose"], { DOCKER_CONFIG: cfgDir });
        outputs["pull stdout"] = pulled.stdout;
        outputs["pull stderr"] = pulled.stderr;
        assert.equal(pulled.code, 0, pulled.stderr);
        assert.deepEqual(fs.readdirSync(out).sort(), fs.readdirSync(sample()).sort());
        assert.equal((await skopeoInspectRaw(tls, "hostile/colon-at", "1.0.0")).json.layers.length, 1, "an independent client with the same creds reads it");
        // A wrong password of the same shape fails cleanly.
        const wrong = await cli(["push", "--path", sample(), "--url", url, "--tag", "2.0.0", "--creds", `${tls.username}:${PASSWORD}@x:`, "--ca-file", tls.caFile!, "--verbose"]);
        outputs["wrong stderr"] = wrong.stderr;
        assert.equal(wrong.code, 1);
        assert.match(wrong.stderr, /authentication failed for registry .* the registry rejected the credentials of user "policy-bot"/);
        for (const pw of [PASSWORD, `${PASSWORD}@x:`]) {
            const hits = scanForSecrets({ texts: outputs }, { username: tls.username!, password: pw, dockerConfigJson: dockerConfigJson(tls.host, tls.username!, pw) });
            assert.deepEqual(hits.map(formatHit), [], "a secret was printed");
        }
        // And the stack config takes such a password as is.
        const cfg = parseStackConfig(
            { "policy-stack:clusterMode": "existing", "policy-stack:registryUrl": url, "policy-stack:registryUsername": tls.username!, "policy-stack:registryPassword": PASSWORD },
            { project: "policy-stack", stack: "prod", projectDir: repoRoot },
        );
        assert.equal(cfg.registry.mode === "external" && cfg.registry.password, PASSWORD);
        record("password containing ':' and '@' (valid)", "--creds user:p:a@ss:w@rd-…, docker config, registryPassword", "CLI push/pull (TLS+htpasswd), parseStackConfig", "exit 0", "pushed and pulled; wrong password → clean auth error; 0 secret hits in all output", "expected");
    });

    // ---------------------------------------------------------------- stack config
    const ctx = { project: "policy-stack", stack: "prod", projectDir: repoRoot };
    const ext = (extra: Record<string, string>) => ({
        "policy-stack:clusterMode": "existing",
        "policy-stack:registryUrl": "oci://ghcr.io/acme/kyverno-policies",
        "policy-stack:registryUsername": "acme-bot",
        "policy-stack:registryPassword": PASSWORD,
        ...extra,
    });
    const configCases: { name: string; raw: Record<string, string>; message: RegExp }[] = [
        { name: "tag that is not semver", raw: ext({ "policy-stack:artifactTag": "latest" }), message: /artifactTag = "latest": tag "latest" is not a semantic version/ },
        {
            name: "semver range the tag does not satisfy",
            raw: ext({ "policy-stack:artifactTag": "2.1.0", "policy-stack:semverRange": ">=1.0.0 <2.0.0" }),
            message: /artifactTag = "2\.1\.0" does not satisfy policy-stack:semverRange = ">=1\.0\.0 <2\.0\.0": Flux would never select this artifact/,
        },
        { name: "http:// registry URL", raw: ext({ "policy-stack:registryUrl": "http://ghcr.io/acme/kyverno-policies" }), message: /registryUrl = "http:\/\/ghcr\.io\/acme\/kyverno-policies": .*not an http\(s\):\/\/ URL \(write oci:\/\/ghcr\.io\/acme\/kyverno-policies\)/ },
        { name: "registry URL without oci://", raw: ext({ "policy-stack:registryUrl": "ghcr.io/acme/kyverno-policies" }), message: /must start with oci:\/\/ \(write oci:\/\/ghcr\.io\/acme\/kyverno-policies\)/ },
        { name: "registry URL with path traversal", raw: ext({ "policy-stack:registryUrl": "oci://ghcr.io/acme/../../etc" }), message: /path traversal segment "\.\." in repository/ },
        { name: "credentials in registryUrl (not echoed)", raw: ext({ "policy-stack:registryUrl": `oci://acme-bot:${PASSWORD}@ghcr.io/acme/p` }), message: /registryUrl = "oci:\/\/\*\*\*@ghcr\.io\/acme\/p": .*credentials in the URL are not allowed/ },
        { name: "unknown enforcement value", raw: ext({ "policy-stack:enforcement": "block" }), message: /enforcement = "block": must be one of audit \| enforce/ },
        { name: "missing required registryUrl", raw: { "policy-stack:clusterMode": "existing" }, message: /registryUrl: required for registryMode external/ },
        {
            name: "missing required registryPassword",
            raw: { "policy-stack:clusterMode": "existing", "policy-stack:registryUrl": "oci://ghcr.io/a/b", "policy-stack:registryUsername": "bot" },
            message: /registryPassword: required for a private registry; set it with 'pulumi config set --secret registryPassword <token>'/,
        },
        { name: "username containing ':'", raw: ext({ "policy-stack:registryUsername": "acme:bot" }), message: /registryUsername = "acme:bot": must not contain ':'/ },
        { name: "unknown config key (typo)", raw: ext({ "policy-stack:registryPasword": "x" }), message: /registryPasword: unknown key; did you mean policy-stack:registryPassword\?/ },
    ];
    for (const c of configCases) {
        it(`config: ${c.name} → ConfigError naming the key, secret never shown`, () => {
            assert.throws(
                () => parseStackConfig(c.raw, ctx),
                (e: unknown) => {
                    assert.ok(e instanceof ConfigError, String(e));
                    assert.match(e.message, c.message);
                    assert.deepEqual(scanForSecrets({ texts: { error: e.message } }, { username: "acme-bot", password: PASSWORD }).map(formatHit), []);
                    const base: Record<string, string> = ext({});
                    const changed = Object.entries(c.raw).filter(([k, v]) => base[k] !== v);
                    const shown = (changed.length > 0 ? changed : Object.entries(c.raw))
                        .map(([k, v]) => `${k.replace("policy-stack:", "")}=${v.split(PASSWORD).join("<password>")}`)
                        .join(" ");
                    record(c.name, shown, "parseStackConfig", "ConfigError", e.problems.join("; "), "none (before any resource)");
                    return true;
                },
            );
        });
    }

    it("the matrix has at least 25 cases", () => {
        assert.ok(table.length >= 25, `only ${table.length} cases`);
    });
});
