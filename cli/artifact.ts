/**
 * `artifact`: build, push, diff and pull the Kyverno policy artifact as a Flux OCI artifact.
 * Flag names follow the Flux CLI (`flux build|push|diff|pull artifact`) where they mean the same.
 *
 * Exit codes: 0 success (diff: no differences), 1 failure (diff: differences), 2 usage error.
 * Errors are one line on stderr, except a refused policy directory: one problem per line, grouped
 * by cause (or, with --output json, the whole list as JSON on stdout). Credentials never appear in
 * any output.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { buildArtifact, extractLayer } from "../lib/artifact";
import { diffPolicySets, formatDiff, summarise, type PolicyDiff } from "../lib/diff";
import { formatPolicyProblems, loadPolicyDir, PolicyLoadAggregateError, problemsJson } from "../lib/policies";
import {
    loadDockerCredentials,
    newStats,
    parseCreds,
    parseOciUrl,
    pullImage,
    pushImage,
    Redactor,
    type ClientOptions,
    type Credentials,
    type OciStats,
} from "../lib/oci";

/** A usage mistake: exit code 2. */
class UsageError extends Error {}

type FlagType = "string" | "boolean";
interface FlagSpec {
    type: FlagType;
    help: string;
    metavar?: string;
    aliases?: string[];
}
interface CommandSpec {
    summary: string;
    usage: string;
    flags: Record<string, FlagSpec>;
    required: string[];
    run: (f: Flags, io: Io) => Promise<number>;
}
type Flags = Record<string, string | boolean | undefined>;

/** Where the CLI writes; injectable so tests could capture it in-process. */
export interface Io {
    out: (s: string) => void;
    err: (s: string) => void;
}

const CONNECTION_FLAGS: Record<string, FlagSpec> = {
    creds: { type: "string", metavar: "USER:PASS", help: "registry credentials; default: the docker config (DOCKER_CONFIG or ~/.docker/config.json)" },
    insecure: { type: "boolean", aliases: ["insecure-registry"], help: "use plain HTTP (default for localhost/127.0.0.1/::1 when TLS is not offered)" },
    "ca-file": { type: "string", metavar: "FILE", help: "PEM CA bundle trusted in addition to the system CAs" },
    stats: { type: "boolean", help: "print request counters (requests, bytes, blobs) to stderr" },
    verbose: { type: "boolean", help: "log every registry request (method, URL, status) to stderr" },
};

const OUTPUT_FLAG: FlagSpec = { type: "string", metavar: "json", help: "print machine-readable JSON instead of human lines" };

const COMMANDS: Record<string, CommandSpec> = {
    build: {
        summary: "Build the artifact from a policy directory and print its digests",
        usage: "artifact build --path DIR [--out FILE.tgz] [--source S] [--revision R] [--output json]",
        flags: {
            path: { type: "string", metavar: "DIR", help: "policy directory (required)" },
            out: { type: "string", metavar: "FILE", help: "keep the layer tarball (tar+gzip) at FILE" },
            source: { type: "string", metavar: "S", help: "org.opencontainers.image.source annotation" },
            revision: { type: "string", metavar: "R", help: "org.opencontainers.image.revision annotation" },
            created: { type: "string", metavar: "RFC3339", help: "org.opencontainers.image.created annotation" },
            output: OUTPUT_FLAG,
        },
        required: ["path"],
        run: runBuild,
    },
    push: {
        summary: "Build the artifact and push it to an OCI registry (blobs first, manifest last)",
        usage: "artifact push --path DIR --url oci://HOST[:PORT]/REPO --tag TAG [--creds USER:PASS] [--insecure] [--ca-file F] [--force] [--output json]",
        flags: {
            path: { type: "string", metavar: "DIR", help: "policy directory (required)" },
            url: { type: "string", metavar: "oci://HOST/REPO", help: "repository URL (required)" },
            tag: { type: "string", metavar: "TAG", help: "tag to push (required)" },
            source: { type: "string", metavar: "S", help: "org.opencontainers.image.source annotation" },
            revision: { type: "string", metavar: "R", help: "org.opencontainers.image.revision annotation" },
            created: { type: "string", metavar: "RFC3339", help: "org.opencontainers.image.created annotation" },
            force: { type: "boolean", help: "move the tag even if it points at different content" },
            output: OUTPUT_FLAG,
            ...CONNECTION_FLAGS,
        },
        required: ["path", "url", "tag"],
        run: runPush,
    },
    diff: {
        summary: "Compare a local policy directory with a pushed artifact (exit 1 when they differ)",
        usage: "artifact diff --path DIR --url oci://HOST[:PORT]/REPO --tag TAG [--creds USER:PASS] [--insecure] [--ca-file F]",
        flags: {
            path: { type: "string", metavar: "DIR", help: "local policy directory (required)" },
            url: { type: "string", metavar: "oci://HOST/REPO", help: "repository URL (required)" },
            tag: { type: "string", metavar: "TAG", help: "tag to compare with (required)" },
            ...CONNECTION_FLAGS,
        },
        required: ["path", "url", "tag"],
        run: runDiff,
    },
    pull: {
        summary: "Download an artifact, verify it and extract its content into a directory",
        usage: "artifact pull --url oci://HOST[:PORT]/REPO --tag TAG --output-dir DIR [--creds USER:PASS] [--insecure] [--ca-file F] [--output json]",
        flags: {
            url: { type: "string", metavar: "oci://HOST/REPO", help: "repository URL (required)" },
            tag: { type: "string", metavar: "TAG", help: "tag to pull (required unless the URL has @digest)" },
            "output-dir": { type: "string", metavar: "DIR", help: "directory to extract into (required)" },
            output: OUTPUT_FLAG,
            ...CONNECTION_FLAGS,
        },
        required: ["url", "output-dir"],
        run: runPull,
    },
};

function mainHelp(): string {
    const lines = ["Usage: artifact <command> [flags]", "", "Commands:"];
    for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(7)} ${c.summary}`);
    lines.push("", "Run 'artifact <command> --help' for the flags of a command.");
    return lines.join("\n") + "\n";
}

function commandHelp(name: string, c: CommandSpec): string {
    const lines = [c.summary + ".", "", `Usage: ${c.usage}`, "", "Flags:"];
    for (const [flag, spec] of Object.entries(c.flags)) {
        const names = [`--${flag}`, ...(spec.aliases ?? []).map((a) => `--${a}`)].join(", ");
        const left = spec.type === "string" ? `${names} ${spec.metavar ?? "VALUE"}` : names;
        lines.push(`  ${left.padEnd(36)} ${spec.help}`);
    }
    lines.push(`  ${"-h, --help".padEnd(36)} help for ${name}`);
    return lines.join("\n") + "\n";
}

/** Parses `--flag value`, `--flag=value` and boolean `--flag`; anything else is a usage error. */
export function parseFlags(args: string[], c: CommandSpec): Flags | "help" {
    const byName = new Map<string, [string, FlagSpec]>();
    for (const [name, spec] of Object.entries(c.flags)) {
        byName.set(name, [name, spec]);
        for (const a of spec.aliases ?? []) byName.set(a, [name, spec]);
    }
    const flags: Flags = {};
    for (let i = 0; i < args.length; i++) {
        const arg = args[i]!;
        if (arg === "--help" || arg === "-h") return "help";
        if (!arg.startsWith("--")) throw new UsageError(`unexpected argument "${arg}"`);
        const eq = arg.indexOf("=");
        const key = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
        const found = byName.get(key);
        // Never echo the value: for --creds it is a secret.
        if (!found) throw new UsageError(`unknown flag --${key}`);
        const [name, spec] = found;
        if (flags[name] !== undefined) throw new UsageError(`flag --${key} given twice`);
        if (spec.type === "boolean") {
            if (eq >= 0) {
                const v = arg.slice(eq + 1);
                if (v !== "true" && v !== "false") throw new UsageError(`flag --${key} takes true or false`);
                flags[name] = v === "true";
            } else flags[name] = true;
            continue;
        }
        let value: string | undefined;
        if (eq >= 0) value = arg.slice(eq + 1);
        else {
            value = args[i + 1];
            if (value === undefined || (value.startsWith("--") && value.length > 2)) throw new UsageError(`flag --${key} needs a value`);
            i++;
        }
        if (value === "") throw new UsageError(`flag --${key} needs a non-empty value`);
        flags[name] = value;
    }
    for (const r of c.required) {
        if (flags[r] === undefined) throw new UsageError(`missing required flag --${r}`);
    }
    if (flags.output !== undefined && flags.output !== "json") throw new UsageError(`--output supports only "json"`);
    return flags;
}

const str = (f: Flags, k: string): string | undefined => (typeof f[k] === "string" ? (f[k] as string) : undefined);

function requireDir(p: string, flag: string): string {
    let st: fs.Stats;
    try {
        st = fs.statSync(p);
    } catch {
        throw new UsageError(`--${flag} ${p}: no such directory`);
    }
    if (!st.isDirectory()) throw new UsageError(`--${flag} ${p}: not a directory`);
    return path.resolve(p);
}

/** The redactor for this process: whatever is printed on failure goes through it. */
const redactor = new Redactor();

/** Client options from the connection flags: creds from --creds, else the docker config. */
function connection(f: Flags, url: string, io: Io): ClientOptions & { stats: OciStats } {
    const ref = parseOciUrl(url);
    let credentials: Credentials | undefined;
    const creds = str(f, "creds");
    if (creds !== undefined) credentials = parseCreds(creds);
    else credentials = loadDockerCredentials(ref.host);
    redactor.addCredentials(credentials);
    const caFile = str(f, "ca-file");
    if (caFile !== undefined && !fs.existsSync(caFile)) throw new UsageError(`--ca-file ${caFile}: no such file`);
    return {
        credentials,
        insecure: f.insecure === true ? true : undefined,
        caFile,
        stats: newStats(),
        redactor,
        onRequest: f.verbose
            ? (e) => io.err(`${e.token ? "token " : ""}${e.method} ${e.url} -> ${e.status ?? e.error} (${e.durationMs} ms${e.attempt > 1 ? `, attempt ${e.attempt}` : ""})\n`)
            : undefined,
    };
}

function printStats(f: Flags, stats: OciStats, io: Io): void {
    if (!f.stats) return;
    io.err(
        `stats: requests=${stats.requests} (${Object.entries(stats.byMethod)
            .map(([m, n]) => `${m}=${n}`)
            .join(" ")}) token_requests=${stats.tokenRequests} retries=${stats.retries} blobs_uploaded=${stats.blobsUploaded} blobs_skipped=${stats.blobsSkipped} bytes_uploaded=${stats.bytesUploaded} bytes_downloaded=${stats.bytesDownloaded}\n`,
    );
}

/**
 * Loads and builds the artifact. Without `outFile` the layer goes to a temp dir of ours, and
 * `dispose()` removes that dir (not just the file), so repeated runs leave nothing behind.
 */
async function build(f: Flags, outFile?: string) {
    const dir = requireDir(str(f, "path")!, "path");
    const set = await loadPolicyDir(dir);
    const tmp = outFile ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), "artifact-cli-"));
    const dispose = () => {
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    };
    try {
        const built = await buildArtifact(set, {
            source: str(f, "source"),
            revision: str(f, "revision"),
            created: str(f, "created"),
            outFile: outFile ?? path.join(tmp!, "artifact.tgz"),
        });
        return { set, built, dispose };
    } catch (e) {
        dispose();
        throw e;
    }
}

async function runBuild(f: Flags, io: Io): Promise<number> {
    const out = str(f, "out");
    const { set, built, dispose } = await build(f, out ? path.resolve(out) : undefined);
    try {
        const info = {
            digest: built.manifestDigest,
            layerDigest: built.layer.digest,
            layerSize: built.layer.size,
            configDigest: built.configDescriptor.digest,
            mediaType: built.layer.mediaType,
            annotations: built.annotations,
            files: set.files.length,
            policies: set.policies.length,
            ...(out ? { out: path.resolve(out) } : {}),
        };
        if (f.output === "json") io.out(JSON.stringify(info, null, 2) + "\n");
        else {
            io.out(`✔ built artifact from ${set.root}: ${set.policies.length} policies in ${set.files.length} files\n`);
            io.out(`  digest:       ${info.digest}\n  layer digest: ${info.layerDigest} (${info.layerSize} bytes)\n`);
            if (out) io.out(`  layer file:   ${info.out}\n`);
        }
    } finally {
        dispose();
    }
    return 0;
}

async function runPush(f: Flags, io: Io): Promise<number> {
    const url = str(f, "url")!;
    const tag = str(f, "tag")!;
    const conn = connection(f, url, io);
    const ref = parseOciUrl(url);
    const { built, dispose } = await build(f);
    try {
        if (f.output !== "json") io.out(`► pushing artifact to ${ref.url}:${tag}\n`);
        const res = await pushImage({
            ...conn,
            url,
            tag,
            manifest: built.manifest,
            config: built.config,
            configDescriptor: built.configDescriptor,
            layers: [built.layer],
            force: f.force === true,
        });
        printStats(f, res.stats, io);
        const digestRef = `${res.host}/${res.repository}@${res.digest}`;
        if (f.output === "json") {
            // Same shape as `flux push artifact --output json`.
            io.out(JSON.stringify({ url: `oci://${digestRef}`, repository: `${res.host}/${res.repository}`, tag: res.tag, digest: res.digest }, null, 2) + "\n");
        } else if (res.unchanged) {
            io.out(`✔ tag ${tag} already points at ${res.digest}; nothing uploaded\n`);
        } else {
            io.out(`✔ artifact successfully pushed to ${digestRef} (${res.uploaded.length} blobs uploaded, ${res.skipped.length} already present)\n`);
        }
        return 0;
    } finally {
        dispose();
    }
}

/** Pulls `url:tag` and extracts its content layer into `dir`. */
async function pullInto(f: Flags, io: Io, dir: string) {
    const url = str(f, "url")!;
    const conn = connection(f, url, io);
    const ref = parseOciUrl(url);
    const tag = str(f, "tag") ?? ref.tag;
    if (!tag && !ref.digest) throw new UsageError("missing required flag --tag");
    const pulled = await pullImage({ ...conn, url, tag: ref.digest ? undefined : tag });
    try {
        const layer = pulled.layers.find((l) => l.mediaType === "application/vnd.cncf.flux.content.v1.tar+gzip") ?? pulled.layers[0];
        if (!layer) throw new Error(`artifact ${ref.url}:${tag} has no layers`);
        await extractLayer(layer.path, dir);
        printStats(f, pulled.stats, io);
        return { pulled, tag };
    } finally {
        pulled.cleanup();
    }
}

async function runDiff(f: Flags, io: Io): Promise<number> {
    const local = requireDir(str(f, "path")!, "path");
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "artifact-diff-"));
    try {
        const { pulled, tag } = await pullInto(f, io, tmp);
        const remoteSet = await loadPolicyDir(tmp);
        const localSet = await loadPolicyDir(local);
        // Remote is "before", local is "after": the report reads as what a push would change.
        const diff = diffPolicySets(remoteSet.policies.map(summarise), localSet.policies.map(summarise));
        const differs = hasDifferences(diff);
        if (differs) io.out(`diff ${pulled.url}:${tag} (${pulled.manifestDigest}) -> ${local}\n${formatDiff(diff).text}\n`);
        else io.out(`✔ no differences between ${local} and ${pulled.url}:${tag} (${pulled.manifestDigest})\n`);
        return differs ? 1 : 0;
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

/** True when any policy was added, removed or changed. */
function hasDifferences(d: PolicyDiff): boolean {
    return d.added.length + d.removed.length + d.changed.length > 0;
}

async function runPull(f: Flags, io: Io): Promise<number> {
    const out = path.resolve(str(f, "output-dir")!);
    // A failed pull (unreachable registry, hostile layer) leaves no trace: extractLayer removes what
    // it wrote, and the directories we created for it go too.
    const firstCreated = fs.mkdirSync(out, { recursive: true });
    let result: Awaited<ReturnType<typeof pullInto>>;
    try {
        result = await pullInto(f, io, out);
    } catch (e) {
        if (firstCreated) fs.rmSync(firstCreated, { recursive: true, force: true });
        throw e;
    }
    const { pulled, tag } = result;
    const info = {
        url: pulled.url,
        repository: pulled.repository,
        tag,
        digest: pulled.manifestDigest,
        source: pulled.annotations["org.opencontainers.image.source"],
        revision: pulled.annotations["org.opencontainers.image.revision"],
        outputDir: out,
    };
    if (f.output === "json") io.out(JSON.stringify(info, null, 2) + "\n");
    else {
        io.out(`✔ pulled ${pulled.url}:${tag} (${pulled.manifestDigest})\n`);
        if (info.source) io.out(`  source:   ${info.source}\n`);
        if (info.revision) io.out(`  revision: ${info.revision}\n`);
        io.out(`✔ extracted to ${out}\n`);
    }
    return 0;
}

/** A refused policy directory: grouped lines on stderr, or every problem as JSON on stdout. Exit 1 either way. */
function reportPolicyProblems(e: PolicyLoadAggregateError, f: Flags, io: Io): number {
    if (f.output === "json") {
        io.out(JSON.stringify(problemsJson(e.report), null, 2) + "\n");
        io.err(`error: ${e.errors.length} problem${e.errors.length === 1 ? "" : "s"} in policy directory ${e.root}; the full list is the JSON on stdout\n`);
        return 1;
    }
    const dir = /^[\w./:@-]+$/.test(e.root) ? e.root : `'${e.root.replace(/'/g, "'\\''")}'`;
    const text = formatPolicyProblems(e.report, { fullListHint: `Every problem, as JSON: artifact build --path ${dir} --output json` });
    io.err(`error: ${redactor.redact(text)}\n`);
    return 1;
}

/** Runs the CLI with `argv` (without node and script). Returns the exit code. */
export async function main(argv: string[], io: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): Promise<number> {
    const [cmd, ...rest] = argv;
    if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
        (cmd === undefined ? io.err : io.out)(mainHelp());
        return cmd === undefined ? 2 : 0;
    }
    const spec = COMMANDS[cmd];
    if (!spec) {
        io.err(`error: unknown command "${cmd}"; run 'artifact --help'\n`);
        return 2;
    }
    let flags: Flags | "help" | undefined;
    try {
        flags = parseFlags(rest, spec);
        if (flags === "help") {
            io.out(commandHelp(cmd, spec));
            return 0;
        }
        return await spec.run(flags, io);
    } catch (e) {
        const err = e as Error;
        const msg = redactor.redact((err && err.message) || String(e)).replace(/\s*\n\s*/g, " ");
        if (e instanceof PolicyLoadAggregateError && typeof flags === "object") return reportPolicyProblems(e, flags, io);
        if (e instanceof UsageError) {
            io.err(`error: ${msg}\nRun 'artifact ${cmd} --help' for usage.\n`);
            return 2;
        }
        const code = (e as { code?: string }).code === "reference" ? 2 : 1;
        io.err(`error: ${msg}\n`);
        return code;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (e) => {
            process.stderr.write(`error: ${redactor.redact(String(e))}\n`);
            process.exitCode = 1;
        },
    );
}
