import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { Header } from "tar";
import {
    buildArtifact,
    buildConfigBlob,
    buildManifestBlob,
    crlfToLf,
    extractLayer,
    FLUX_CONFIG_MEDIA_TYPE,
    FLUX_CONTENT_MEDIA_TYPE,
    goJsonString,
    goTimeJson,
    looksBinary,
    normaliseText,
    redactRemoteUrl,
} from "../../lib/artifact";
import { CrlfToLfStream } from "../../lib/artifact/eol";
import { comparePaths, loadPolicyDir } from "../../lib/policies";
import { samplePoliciesDir } from "../harness/paths";
import { clusterPolicy, copyTree, tempDir, writeTree } from "../fixtures/tree";

const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** Reads the raw tar headers (name, type, mode, uid, gid, mtime, uname, gname) of a .tgz. */
function tarHeaders(tgz: string): { name: string; type: string; mode: number; uid: number; gid: number; mtime: number; uname: string; gname: string; size: number }[] {
    const raw = zlib.gunzipSync(fs.readFileSync(tgz));
    const out = [];
    let off = 0;
    let paxPath: string | undefined;
    while (off + 512 <= raw.length) {
        const block = raw.subarray(off, off + 512);
        if (block.every((b) => b === 0)) break;
        const h = new Header(block);
        const size = h.size ?? 0;
        const body = raw.subarray(off + 512, off + 512 + size);
        off += 512 + Math.ceil(size / 512) * 512;
        if (h.type === "ExtendedHeader") {
            paxPath = /\d+ path=(.*)\n/.exec(body.toString("utf8"))?.[1];
            continue;
        }
        out.push({
            name: paxPath ?? h.path!,
            type: h.type,
            mode: h.mode!,
            uid: h.uid!,
            gid: h.gid!,
            mtime: h.mtime!.getTime(),
            uname: h.uname ?? "",
            gname: h.gname ?? "",
            size,
        });
        paxPath = undefined;
    }
    return out;
}

const FIXED = { source: "https://github.com/example/policies", revision: "main@sha1:0123456789abcdef0123456789abcdef01234567", created: "2024-01-02T03:04:05Z", git: false };

describe("buildArtifact: Flux-compatible layout", () => {
    test("sample policies: layer headers, order, media types, annotations", async () => {
        const t = tempDir();
        try {
            const a = await buildArtifact(samplePoliciesDir, { ...FIXED, outFile: path.join(t.dir, "out", "layer.tgz") });
            assert.equal(a.layer.path, path.join(t.dir, "out", "layer.tgz"));
            const bytes = fs.readFileSync(a.layer.path);
            assert.equal(a.layer.size, bytes.length);
            assert.equal(a.layer.digest, sha256(bytes));
            assert.equal(a.layer.mediaType, FLUX_CONTENT_MEDIA_TYPE);
            // gzip header: no name, mtime 0, OS byte 255 (as Go writes it)
            assert.deepEqual([...bytes.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
            // Uncompressed layer: identical to what Go's archive/tar writes for Flux (computed once with
            // fluxcd/pkg's header sanitisation over these 12 files at 0644 in a 0755 directory).
            assert.equal(a.diffId, "sha256:de52e436bfbb93ba9fff36d212cadf6c0b6b72b5a05adddd04eef958b227999a");
            assert.equal(a.diffId, sha256(zlib.gunzipSync(bytes)));

            const hs = tarHeaders(a.layer.path);
            assert.deepEqual(hs.map((h) => h.name), [".", ...fs.readdirSync(samplePoliciesDir).sort()]);
            for (const h of hs) {
                assert.equal(h.uid, 0);
                assert.equal(h.gid, 0);
                assert.equal(h.mtime, 0);
                assert.equal(h.uname, "");
                assert.equal(h.gname, "");
                assert.equal(h.mode, h.type === "Directory" ? 0o755 : 0o644);
                assert.ok(h.type === "Directory" || h.type === "File");
            }

            const manifest = JSON.parse(a.manifest.toString());
            assert.deepEqual(Object.keys(manifest), ["schemaVersion", "mediaType", "config", "layers", "annotations"]);
            assert.equal(manifest.schemaVersion, 2);
            assert.equal(manifest.mediaType, "application/vnd.oci.image.manifest.v1+json");
            assert.deepEqual(manifest.config, { mediaType: FLUX_CONFIG_MEDIA_TYPE, size: a.config.length, digest: sha256(a.config) });
            assert.deepEqual(manifest.layers, [{ mediaType: FLUX_CONTENT_MEDIA_TYPE, size: a.layer.size, digest: a.layer.digest }]);
            assert.deepEqual(manifest.annotations, {
                "org.opencontainers.image.created": FIXED.created,
                "org.opencontainers.image.revision": FIXED.revision,
                "org.opencontainers.image.source": FIXED.source,
            });
            assert.deepEqual(a.annotations, manifest.annotations);
            assert.equal(a.manifestDigest, sha256(a.manifest));
            assert.deepEqual(a.configDescriptor, manifest.config);
            assert.deepEqual(JSON.parse(a.config.toString()).rootfs, { type: "layers", diff_ids: [a.diffId] });
            assert.equal(a.policies.length, 12);
        } finally {
            t.cleanup();
        }
    });

    test("config and manifest bytes equal go-containerregistry's for the same inputs", () => {
        // Golden values produced by go-containerregistry v0.21.5 following fluxcd/pkg oci Push
        // (empty image, Flux config media type, created set in the config, annotations, one layer).
        const diffId = "sha256:f8bed98ae7f36983684bf816d9341b09ad46de182dc3d23d68d9eeda21b45d51";
        const config = buildConfigBlob("2024-01-02T03:04:05Z", diffId);
        assert.equal(
            config.toString(),
            '{"architecture":"","created":"2024-01-02T03:04:05Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["sha256:f8bed98ae7f36983684bf816d9341b09ad46de182dc3d23d68d9eeda21b45d51"]},"config":{}}',
        );
        assert.equal(sha256(config), "sha256:de690064c8518b11a9f6d8b1c2911dfe0c4cb92e09694ecc77bb3467a38f41d4");
        const manifest = buildManifestBlob(
            { mediaType: FLUX_CONFIG_MEDIA_TYPE, size: config.length, digest: sha256(config) },
            [{ mediaType: FLUX_CONTENT_MEDIA_TYPE, size: 188, digest: "sha256:e290abfad58dce8d65626a52e63b1a22ce504f625085dc3c49c00e98a36534a5" }],
            { "org.opencontainers.image.source": "src", "org.opencontainers.image.revision": "main@sha1:abc", "org.opencontainers.image.created": "2024-01-02T03:04:05Z" },
        );
        assert.equal(sha256(manifest), "sha256:9fe12ab280bc78fc1509e1115035074d7cffb35084d1c3b358c86cb4d82613b9");
    });

    test("Go JSON and time formatting details", () => {
        assert.equal(goJsonString("a&b<c>\u2028"), '"a\\u0026b\\u003cc\\u003e\\u2028"');
        assert.equal(goTimeJson("2024-01-02T03:04:05.500000+00:00"), "2024-01-02T03:04:05.5Z");
        assert.equal(goTimeJson("2024-01-02T03:04:05.000+02:00"), "2024-01-02T03:04:05+02:00");
        assert.throws(() => goTimeJson("2024-01-02 03:04:05"), /invalid created timestamp .*RFC3339/);
        assert.throws(() => goTimeJson("2024-02-30T00:00:00Z"), /not a real date/);
        assert.equal(redactRemoteUrl("https://user:tok3n@github.com/o/r.git"), "https://github.com/o/r.git");
        assert.equal(redactRemoteUrl("git@github.com:o/r.git"), "git@github.com:o/r.git");
    });

    test("rejects an invalid created annotation before writing anything", async () => {
        const t = tempDir();
        try {
            await assert.rejects(buildArtifact(samplePoliciesDir, { ...FIXED, created: "yesterday", outFile: path.join(t.dir, "x.tgz") }), /invalid created timestamp "yesterday"/);
            assert.equal(fs.existsSync(path.join(t.dir, "x.tgz")), false);
        } finally {
            t.cleanup();
        }
    });

    test("nested directories appear right before their contents, in Go WalkDir order", async () => {
        const t = tempDir();
        try {
            const src = path.join(t.dir, "src");
            writeTree(src, { "b.yaml": clusterPolicy("b"), "a/x.yaml": clusterPolicy("ax"), "a-b.yaml": clusterPolicy("ab"), "a/z/y.yaml": clusterPolicy("azy"), "README.md": "x" });
            const a = await buildArtifact(src, { ...FIXED, outFile: path.join(t.dir, "l.tgz") });
            assert.deepEqual(tarHeaders(a.layer.path).map((h) => `${h.type === "Directory" ? "d" : "f"} ${h.name}`), [
                "d .",
                "d a",
                "f a/x.yaml",
                "d a/z",
                "f a/z/y.yaml",
                "f a-b.yaml",
                "f b.yaml",
            ]);
        } finally {
            t.cleanup();
        }
    });
});

describe("buildArtifact: reproducibility", () => {
    /** Copies the sample policies into `dir` in the given order, with the given mtime and umask. */
    function makeTree(dir: string, order: string[], mtime: Date, umask: number): void {
        const old = process.umask(umask);
        try {
            fs.mkdirSync(path.join(dir, "nested"), { recursive: true });
            for (const f of order) {
                const dst = f === "require-labels.yaml" ? path.join(dir, "nested", f) : path.join(dir, f);
                fs.writeFileSync(dst, fs.readFileSync(path.join(samplePoliciesDir, f)));
                fs.utimesSync(dst, mtime, mtime);
            }
            fs.utimesSync(dir, mtime, mtime);
        } finally {
            process.umask(old);
        }
    }

    test("same files → same layer and manifest digests, whatever order, mtime, umask or location", async () => {
        const t = tempDir();
        try {
            const files = fs.readdirSync(samplePoliciesDir).sort();
            const shuffled = [...files].reverse();
            shuffled.push(shuffled.splice(3, 1)[0]);
            makeTree(path.join(t.dir, "one"), files, new Date("2001-01-01T00:00:00Z"), 0o022);
            makeTree(path.join(t.dir, "second-place"), shuffled, new Date("2033-05-05T12:00:00Z"), 0o077);
            fs.chmodSync(path.join(t.dir, "second-place", "disallow-capabilities.yaml"), 0o755);
            const a = await buildArtifact(path.join(t.dir, "one"), { ...FIXED, outFile: path.join(t.dir, "a.tgz") });
            const b = await buildArtifact(path.join(t.dir, "second-place"), { ...FIXED, outFile: path.join(t.dir, "b.tgz") });
            assert.equal(a.layer.digest, b.layer.digest);
            assert.equal(a.diffId, b.diffId);
            assert.equal(a.manifestDigest, b.manifestDigest);
            assert.deepEqual(fs.readFileSync(a.layer.path), fs.readFileSync(b.layer.path));
            // …and a default temp output gives the same bytes again
            const c = await buildArtifact(await loadPolicyDir(path.join(t.dir, "one")), FIXED);
            try {
                assert.equal(c.layer.digest, a.layer.digest);
                assert.equal(c.manifestDigest, a.manifestDigest);
            } finally {
                fs.rmSync(path.dirname(c.layer.path), { recursive: true, force: true });
            }
        } finally {
            t.cleanup();
        }
    });

    /** The sample policies in `dir`, every line ending as `eol`. */
    function sampleWithEol(dir: string, eol: "\n" | "\r\n"): void {
        copyTree(samplePoliciesDir, dir);
        for (const f of fs.readdirSync(dir)) {
            const p = path.join(dir, f);
            fs.writeFileSync(p, fs.readFileSync(p, "utf8").replace(/\r?\n/g, eol));
        }
    }

    test("an LF and a CRLF checkout give the same policy, layer and manifest digests (text files ship with LF)", async () => {
        const t = tempDir();
        try {
            sampleWithEol(path.join(t.dir, "lf"), "\n");
            sampleWithEol(path.join(t.dir, "crlf"), "\r\n");
            const crlfBytes = fs.readFileSync(path.join(t.dir, "crlf", fs.readdirSync(path.join(t.dir, "crlf"))[0]!));
            assert.ok(crlfBytes.includes("apiVersion: kyverno.io/v1\r\nkind: ClusterPolicy\r\n"), "the CRLF tree holds CRLF");
            const lf = await buildArtifact(path.join(t.dir, "lf"), { ...FIXED, outFile: path.join(t.dir, "lf.tgz") });
            const crlf1 = await buildArtifact(path.join(t.dir, "crlf"), { ...FIXED, outFile: path.join(t.dir, "crlf1.tgz") });
            const crlf2 = await buildArtifact(path.join(t.dir, "crlf"), { ...FIXED, outFile: path.join(t.dir, "crlf2.tgz") });
            assert.deepEqual(crlf1.policies.map((p) => p.digest), lf.policies.map((p) => p.digest));
            assert.equal(crlf1.diffId, lf.diffId);
            assert.equal(crlf1.layer.digest, lf.layer.digest);
            assert.equal(crlf1.layer.size, lf.layer.size);
            assert.equal(crlf1.manifestDigest, lf.manifestDigest);
            assert.deepEqual(crlf1.manifest, lf.manifest);
            assert.deepEqual(fs.readFileSync(crlf1.layer.path), fs.readFileSync(lf.layer.path));
            assert.equal(crlf2.manifestDigest, crlf1.manifestDigest);
            const raw = zlib.gunzipSync(fs.readFileSync(crlf1.layer.path));
            assert.ok(raw.includes(Buffer.from("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\n")));
            assert.equal(raw.includes(Buffer.from("\r")), false, "no CR left in the layer");
            // The tar header sizes are the shipped (LF) sizes, not the on-disk ones.
            const sizes = tarHeaders(crlf1.layer.path).filter((h) => h.type === "File").map((h) => h.size);
            assert.deepEqual(sizes, lf.files.map((f) => f.size));
            assert.ok(crlf1.files.every((f, i) => f.size > sizes[i]!), "on-disk sizes are the CRLF ones");
        } finally {
            t.cleanup();
        }
    });

    test("files over the streaming threshold: CRLF (also across read chunks) gives the LF layer", async () => {
        const t = tempDir();
        try {
            // A policy with a long comment: over 1 MiB, so the writer streams it in 64 KiB chunks;
            // the first comment line is sized so that a CRLF straddles the first chunk boundary.
            const crlfHead = Buffer.byteLength(clusterPolicy("big").replace(/\n/g, "\r\n"));
            const build = (eol: string) => {
                const head = clusterPolicy("big").replace(/\n/g, eol);
                const first = `# ${"x".repeat(65536 - crlfHead - 3)}${eol}`;
                const lines = Array.from({ length: 20_000 }, (_, i) => `# line ${i} ${"y".repeat(i % 97)}${eol}`);
                return head + first + lines.join("");
            };
            const crlfText = build("\r\n");
            assert.equal(Buffer.from(crlfText)[65535], 0x0d);
            assert.equal(Buffer.from(crlfText)[65536], 0x0a);
            assert.ok(Buffer.byteLength(crlfText) > 1 << 20);
            writeTree(path.join(t.dir, "lf"), { "big.yaml": build("\n"), "small.yaml": clusterPolicy("small") });
            writeTree(path.join(t.dir, "crlf"), { "big.yaml": crlfText, "small.yaml": clusterPolicy("small").replace(/\n/g, "\r\n") });
            const lf = await buildArtifact(path.join(t.dir, "lf"), { ...FIXED, outFile: path.join(t.dir, "lf.tgz") });
            const crlf = await buildArtifact(path.join(t.dir, "crlf"), { ...FIXED, outFile: path.join(t.dir, "crlf.tgz") });
            assert.equal(crlf.diffId, lf.diffId);
            assert.equal(crlf.layer.digest, lf.layer.digest);
            assert.equal(crlf.manifestDigest, lf.manifestDigest);
        } finally {
            t.cleanup();
        }
    });

    test("binary files (a NUL in the first 8000 bytes) ship byte for byte, CRLF included; lone CRs stay in text files", async () => {
        const t = tempDir();
        try {
            const src = path.join(t.dir, "src");
            writeTree(src, { "a.yaml": clusterPolicy("a").replace(/\n/g, "\r\n") });
            const set = await loadPolicyDir(src);
            // The loader refuses NUL bytes in YAML, so binary files only reach the builder in a
            // hand-made set; the builder must still not rewrite them.
            const smallBinary = Buffer.concat([Buffer.from("bin\r\n"), Buffer.from([0, 1, 2, 0x0d, 0x0a, 0x0d]), Buffer.from("\r\nend\r\n")]);
            const largeBinary = Buffer.alloc((1 << 20) + 70_000, "ab\r\n");
            largeBinary[7999] = 0;
            const nulLate = Buffer.alloc(9000, "cd\r\n");
            nulLate[8000] = 0; // past git's 8000-byte window: text
            const loneCr = Buffer.from("x: 1\ry: 2\r\nz: 3\r");
            const extra: Record<string, Buffer> = { "bin/small.dat": smallBinary, "bin/large.dat": largeBinary, "bin/nul-late.dat": nulLate, "bin/lone-cr.dat": loneCr };
            writeTree(src, extra);
            const files = [
                ...set.files,
                ...Object.entries(extra).map(([rel, b]) => ({ path: rel, absPath: path.join(src, ...rel.split("/")), size: b.length, sha256: sha256(b) })),
            ].sort((x, y) => comparePaths(x.path, y.path));
            const a = await buildArtifact({ ...set, files }, { ...FIXED, outFile: path.join(t.dir, "a.tgz") });
            const out = path.join(t.dir, "out");
            await extractLayer(a.layer.path, out);
            const read = (rel: string) => fs.readFileSync(path.join(out, ...rel.split("/")));
            assert.deepEqual(read("bin/small.dat"), smallBinary);
            assert.deepEqual(read("bin/large.dat"), largeBinary);
            assert.deepEqual(read("bin/nul-late.dat"), Buffer.from(nulLate.toString("latin1").replace(/\r\n/g, "\n"), "latin1"));
            assert.deepEqual(read("bin/lone-cr.dat"), Buffer.from("x: 1\ry: 2\nz: 3\r"));
            assert.deepEqual(read("a.yaml"), Buffer.from(clusterPolicy("a")));
        } finally {
            t.cleanup();
        }
    });

    test("a file edited after validation fails the build instead of shipping unvalidated bytes", async () => {
        const t = tempDir();
        try {
            writeTree(t.dir, { "src/a.yaml": clusterPolicy("a") });
            const set = await loadPolicyDir(path.join(t.dir, "src"));
            fs.writeFileSync(path.join(t.dir, "src", "a.yaml"), clusterPolicy("b"));
            await assert.rejects(buildArtifact(set, { ...FIXED, outFile: path.join(t.dir, "a.tgz") }), /a\.yaml changed since it was validated/);
            assert.deepEqual(fs.readdirSync(t.dir), ["src"], "no partial layer left behind");
        } finally {
            t.cleanup();
        }
    });

    test("annotations from git: branch@sha1:commit, commit time, origin without credentials", async (ctx) => {
        try {
            execFileSync("git", ["--version"], { stdio: "ignore" });
        } catch {
            ctx.skip("git not installed");
            return;
        }
        const t = tempDir();
        try {
            const g = (...args: string[]) => execFileSync("git", ["-C", t.dir, ...args], { encoding: "utf8", env: { ...process.env, GIT_AUTHOR_DATE: "2024-05-06T07:08:09Z", GIT_COMMITTER_DATE: "2024-05-06T07:08:09Z" } }).trim();
            g("init", "-q", "-b", "release");
            g("config", "user.email", "t@example.com");
            g("config", "user.name", "t");
            g("remote", "add", "origin", "https://someone:s3cret@git.example.com/org/policies.git");
            writeTree(t.dir, { "policies/a.yaml": clusterPolicy("a") });
            g("add", ".");
            g("commit", "-q", "-m", "init");
            const sha = g("rev-parse", "HEAD");
            const a = await buildArtifact(path.join(t.dir, "policies"), { outFile: path.join(t.dir, "out.tgz") });
            assert.deepEqual(a.annotations, {
                "org.opencontainers.image.created": "2024-05-06T07:08:09Z",
                "org.opencontainers.image.revision": `release@sha1:${sha}`,
                "org.opencontainers.image.source": "https://git.example.com/org/policies.git",
            });
            assert.equal(a.git?.dirty, false);
            g("checkout", "-q", "--detach");
            g("tag", "v1.0.0");
            const b = await buildArtifact(path.join(t.dir, "policies"), { outFile: path.join(t.dir, "out2.tgz"), source: "explicit" });
            assert.equal(b.annotations["org.opencontainers.image.revision"], `v1.0.0@sha1:${sha}`);
            assert.equal(b.annotations["org.opencontainers.image.source"], "explicit");
            assert.equal(b.layer.digest, a.layer.digest);
        } finally {
            t.cleanup();
        }
    });

    test("outside git and without options: empty source/revision, epoch created", async () => {
        const t = tempDir();
        try {
            writeTree(t.dir, { "src/a.yaml": clusterPolicy("a") });
            const a = await buildArtifact(path.join(t.dir, "src"), { outFile: path.join(t.dir, "a.tgz"), git: false });
            assert.deepEqual(a.annotations, {
                "org.opencontainers.image.created": "1970-01-01T00:00:00Z",
                "org.opencontainers.image.revision": "",
                "org.opencontainers.image.source": "",
            });
        } finally {
            t.cleanup();
        }
    });
});

describe("line endings: git's text=auto", () => {
    test("CRLF becomes LF in text; lone CRs and binary content stay", () => {
        const cases: [string, Buffer, Buffer][] = [
            ["empty", Buffer.alloc(0), Buffer.alloc(0)],
            ["LF only", Buffer.from("a\nb\n"), Buffer.from("a\nb\n")],
            ["CRLF", Buffer.from("a\r\nb\r\n"), Buffer.from("a\nb\n")],
            ["mixed", Buffer.from("a\r\nb\nc"), Buffer.from("a\nb\nc")],
            ["lone CR", Buffer.from("a\rb\r"), Buffer.from("a\rb\r")],
            ["CR CR LF", Buffer.from("a\r\r\n"), Buffer.from("a\r\n")],
            ["NUL at 0", Buffer.from("\0a\r\n"), Buffer.from("\0a\r\n")],
            ["NUL at 7999", Buffer.concat([Buffer.alloc(7999, "a"), Buffer.from("\0\r\n")]), Buffer.concat([Buffer.alloc(7999, "a"), Buffer.from("\0\r\n")])],
            ["NUL at 8000", Buffer.concat([Buffer.alloc(8000, "a"), Buffer.from("\0\r\n")]), Buffer.concat([Buffer.alloc(8000, "a"), Buffer.from("\0\n")])],
        ];
        for (const [name, input, want] of cases) assert.deepEqual(normaliseText(input), want, name);
        assert.equal(looksBinary(Buffer.from("a\0")), true);
        assert.equal(crlfToLf(Buffer.from("\r\n\r\n")).toString(), "\n\n");
    });

    test("the chunked normaliser equals the whole-buffer one for every split", () => {
        const inputs = ["a\r\nb", "\r\n\r\n", "\r\r\n\r", "x\r", "\r", "\n\r\n\r\r"];
        for (const text of inputs) {
            const buf = Buffer.from(text);
            for (let i = 0; i <= buf.length; i++) {
                for (let j = i; j <= buf.length; j++) {
                    const s = new CrlfToLfStream();
                    const out = Buffer.concat([s.push(buf.subarray(0, i)), s.push(buf.subarray(i, j)), s.push(buf.subarray(j)), s.end()]);
                    assert.deepEqual(out, crlfToLf(buf), `${JSON.stringify(text)} split at ${i},${j}`);
                }
            }
        }
    });
});
