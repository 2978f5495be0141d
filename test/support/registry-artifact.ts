/**
 * Helpers for the OCI tests: build the sample artifact, make a changed copy of a policy dir, compare
 * directory trees byte for byte, and find a layer inside a skopeo OCI layout.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { buildArtifact, type BuiltArtifact } from "../../lib/artifact";
import type { LayerBlob } from "../../lib/oci";
import { samplePoliciesDir } from "../harness/paths";

/** A fresh temp directory (removed by the caller, or left for the OS in a crash). */
export function tempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/** Temp directories of the layers `buildSample` wrote, removed when the test process exits. */
const sampleLayerDirs: string[] = [];
process.on("exit", () => {
    for (const d of sampleLayerDirs) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * Builds an artifact from `dir` (the sample by default) with fixed annotations. Its layer stays
 * readable for the rest of the test file (tests push it several times) and is removed at exit.
 */
export async function buildSample(dir = samplePoliciesDir, revision = "main@sha1:0123456789abcdef0123456789abcdef01234567"): Promise<BuiltArtifact> {
    const out = tempDir("sample-artifact");
    sampleLayerDirs.push(out);
    return buildArtifact(dir, { source: "https://example.invalid/policy-stack.git", revision, created: "2024-01-02T03:04:05Z", git: false, outFile: path.join(out, "artifact.tgz") });
}

/** `pushImage` layer argument for a built artifact. */
export function layersOf(b: BuiltArtifact): LayerBlob[] {
    return [{ digest: b.layer.digest, size: b.layer.size, mediaType: b.layer.mediaType, path: b.layer.path }];
}

/** Copies the sample and changes one policy, so the artifact differs. Returns the new dir. */
export function changedSampleCopy(): string {
    const dir = tempDir("policies-changed");
    fs.cpSync(samplePoliciesDir, dir, { recursive: true });
    const file = path.join(dir, "require-labels.yaml");
    const text = fs.readFileSync(file, "utf8");
    // A semantic change (not just whitespace): the policy switches from Audit to Enforce.
    const changed = text.replace("validationFailureAction: Audit", "validationFailureAction: Enforce");
    if (changed === text) throw new Error("test fixture: could not change require-labels.yaml");
    fs.writeFileSync(file, changed);
    return dir;
}

/** Every regular file under `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
    const out: string[] = [];
    const walk = (rel: string) => {
        for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
            const r = rel ? `${rel}/${e.name}` : e.name;
            if (e.isDirectory()) walk(r);
            else out.push(r);
        }
    };
    walk("");
    return out.sort();
}

/** Throws (with the first difference) unless both trees hold the same files with the same bytes. */
export function assertSameTree(expected: string, actual: string): void {
    const a = listFiles(expected);
    const b = listFiles(actual);
    if (JSON.stringify(a) !== JSON.stringify(b)) {
        throw new Error(`file lists differ:\n expected ${JSON.stringify(a)}\n actual   ${JSON.stringify(b)}`);
    }
    for (const f of a) {
        if (!fs.readFileSync(path.join(expected, f)).equals(fs.readFileSync(path.join(actual, f)))) {
            throw new Error(`file ${f} differs between ${expected} and ${actual}`);
        }
    }
}

/** Reads `index.json` of an OCI layout, follows `tag` to its manifest and returns manifest + blob dir. */
export function readOciLayout(layoutDir: string, tag: string): { manifest: Record<string, any>; manifestDigest: string; blobPath: (digest: string) => string } {
    const index = JSON.parse(fs.readFileSync(path.join(layoutDir, "index.json"), "utf8")) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
    const entry = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag) ?? index.manifests[0];
    if (!entry) throw new Error(`no manifest in ${layoutDir}`);
    const blobPath = (digest: string) => path.join(layoutDir, "blobs", ...digest.split(":"));
    return { manifest: JSON.parse(fs.readFileSync(blobPath(entry.digest), "utf8")), manifestDigest: entry.digest, blobPath };
}

/** Extracts a tar+gzip with the system tar (an extractor independent of ours). */
export function systemUntar(tgz: string, dest: string): void {
    fs.mkdirSync(dest, { recursive: true });
    execFileSync("tar", ["-xzf", tgz, "-C", dest], { stdio: ["ignore", "ignore", "pipe"] });
}
