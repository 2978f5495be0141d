/**
 * Whether the compiled CLI is older than the TypeScript beside it. The CLI is compiled once (at
 * `npm install`, or `npm run build`), not at every call, so an edit or a `git pull` without a
 * rebuild would otherwise run the old code without a word. Only `fs.stat` calls: this runs at
 * every start.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Written by `npm run build` (and `npm install`) after tsc: the time of the last full build. */
export const BUILD_STAMP = ".built";

/** The source directories the CLI is compiled from. */
const SOURCE_DIRS = ["cli", "lib"];

function mtime(file: string): number | undefined {
    try {
        return fs.statSync(file).mtimeMs;
    } catch {
        return undefined;
    }
}

/**
 * A source file (relative to `root`) that changed after the build, or undefined when the build is
 * current or there are no sources beside it (an installed copy). A file counts as changed when it
 * is newer than the last `npm run build` and than its own compiled output: tsc leaves an output
 * alone when the content did not change, so a file only touched (a checkout) is cleared by the
 * next `npm run build`, and one compiled by a plain `tsc` run is not reported.
 */
export function staleSource(root: string, outDir: string): string | undefined {
    if (mtime(path.join(root, "cli", "artifact.ts")) === undefined) return undefined;
    const built = mtime(path.join(outDir, BUILD_STAMP)) ?? 0;
    for (const dir of SOURCE_DIRS) {
        let entries: string[];
        try {
            entries = fs.readdirSync(path.join(root, dir), { recursive: true, encoding: "utf8" });
        } catch {
            continue;
        }
        for (const rel of entries) {
            if (!rel.endsWith(".ts") || rel.endsWith(".d.ts")) continue;
            const source = path.join(dir, rel);
            const changed = mtime(path.join(root, source));
            if (changed === undefined || changed <= built) continue;
            const output = mtime(path.join(outDir, source.replace(/\.ts$/, ".js")));
            if (output === undefined || output < changed) return source;
        }
    }
    return undefined;
}
