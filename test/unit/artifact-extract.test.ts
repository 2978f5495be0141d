import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { buildArtifact, encodeHeader, extractLayer, LayerExtractError, safeEntryPath, TypeFlag, type RawHeader } from "../../lib/artifact";
import { samplePoliciesDir } from "../harness/paths";
import { tempDir } from "../fixtures/tree";

/** Crafts a .tgz from raw entries (content padded to 512). */
function craft(file: string, entries: { h: Partial<RawHeader> & { name: string }; body?: string }[]): string {
    const parts: Buffer[] = [];
    for (const e of entries) {
        const body = Buffer.from(e.body ?? "");
        parts.push(encodeHeader({ typeflag: TypeFlag.File, mode: 0o644, size: body.length, ...e.h }));
        parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
    parts.push(Buffer.alloc(1024));
    fs.writeFileSync(file, zlib.gzipSync(Buffer.concat(parts)));
    return file;
}

describe("extractLayer", () => {
    test("round-trips a built artifact", async () => {
        const t = tempDir();
        try {
            const a = await buildArtifact(samplePoliciesDir, { outFile: path.join(t.dir, "a.tgz"), git: false });
            const files = await extractLayer(a.layer.path, path.join(t.dir, "out"));
            assert.deepEqual(files, fs.readdirSync(samplePoliciesDir).sort());
            for (const f of files) {
                assert.deepEqual(fs.readFileSync(path.join(t.dir, "out", f)), fs.readFileSync(path.join(samplePoliciesDir, f)));
                assert.equal(fs.statSync(path.join(t.dir, "out", f)).mode & 0o777, 0o644);
            }
        } finally {
            t.cleanup();
        }
    });

    const bad: [string, { h: Partial<RawHeader> & { name: string }; body?: string }[], RegExp][] = [
        ["parent traversal ../x", [{ h: { name: "ok.yaml" }, body: "a" }, { h: { name: "../x" }, body: "pwned" }], /"\.\.\/x": path escapes the destination/],
        ["nested traversal a/../../x", [{ h: { name: "a/../../x" }, body: "pwned" }], /path escapes the destination/],
        ["absolute /etc/x", [{ h: { name: "/etc/x" }, body: "pwned" }], /"\/etc\/x": absolute path/],
        ["symlink", [{ h: { name: "link", typeflag: TypeFlag.Symlink, linkname: "/etc/passwd", size: 0 } }], /SymbolicLink entries are not allowed/],
        ["hard link", [{ h: { name: "hard", typeflag: TypeFlag.Link, linkname: "ok.yaml", size: 0 } }], /Link entries are not allowed/],
        ["character device", [{ h: { name: "dev", typeflag: TypeFlag.Char, size: 0 } }], /CharacterDevice entries are not allowed/],
        ["fifo", [{ h: { name: "fifo", typeflag: TypeFlag.Fifo, size: 0 } }], /FIFO entries are not allowed/],
        ["backslash", [{ h: { name: "a\\..\\x" }, body: "x" }], /backslash/],
        ["duplicate file", [{ h: { name: "a.yaml" }, body: "1" }, { h: { name: "a.yaml" }, body: "2" }], /duplicate entry/],
        ["PAX path with ..", [{ h: { name: "ok/" + "x".repeat(150) + "/../../../../escape" }, body: "x" }], /path escapes the destination/],
    ];
    for (const [name, entries, re] of bad) {
        test(`rejects ${name} and leaves nothing behind`, async () => {
            const t = tempDir();
            try {
                const tgz = craft(path.join(t.dir, "bad.tgz"), entries);
                const dest = path.join(t.dir, "dest", "inner");
                await assert.rejects(extractLayer(tgz, dest), (e: Error) => {
                    assert.ok(e instanceof LayerExtractError, String(e));
                    assert.match(e.message, re);
                    return true;
                });
                assert.deepEqual(fs.readdirSync(dest), []);
                assert.equal(fs.existsSync(path.join(t.dir, "dest", "x")), false);
                assert.equal(fs.existsSync(path.join(t.dir, "x")), false);
                assert.equal(fs.existsSync(path.join(t.dir, "escape")), false);
            } finally {
                t.cleanup();
            }
        });
    }

    test("enforces the total size limit (decompression bomb guard)", async () => {
        const t = tempDir();
        try {
            const tgz = craft(path.join(t.dir, "big.tgz"), [{ h: { name: "big.yaml" }, body: "x".repeat(4096) }]);
            await assert.rejects(extractLayer(tgz, path.join(t.dir, "d"), { maxTotalSize: 1000 }), /exceeds 1000 bytes/);
        } finally {
            t.cleanup();
        }
    });

    test("refuses to write through a symlink already in the destination", async () => {
        const t = tempDir();
        try {
            const dest = path.join(t.dir, "dest");
            fs.mkdirSync(dest);
            fs.mkdirSync(path.join(t.dir, "elsewhere"));
            fs.symlinkSync(path.join(t.dir, "elsewhere"), path.join(dest, "sub"));
            const tgz = craft(path.join(t.dir, "l.tgz"), [{ h: { name: "sub/x.yaml" }, body: "x" }]);
            await assert.rejects(extractLayer(tgz, dest), /sub exists and is not a directory/);
            assert.deepEqual(fs.readdirSync(path.join(t.dir, "elsewhere")), []);
        } finally {
            t.cleanup();
        }
    });

    test("rejects garbage", async () => {
        const t = tempDir();
        try {
            fs.writeFileSync(path.join(t.dir, "g.tgz"), zlib.gzipSync(Buffer.from("not a tar file at all".repeat(40))));
            await assert.rejects(extractLayer(path.join(t.dir, "g.tgz"), path.join(t.dir, "d")), LayerExtractError);
        } finally {
            t.cleanup();
        }
    });

    test("safeEntryPath normalises harmless forms", () => {
        assert.equal(safeEntryPath("./a/b.yaml"), "a/b.yaml");
        assert.equal(safeEntryPath("."), "");
        assert.equal(safeEntryPath("dir/"), "dir");
        assert.throws(() => safeEntryPath("C:/x"), /absolute/);
    });
});
