#!/usr/bin/env node
/**
 * `artifact`: build, push, diff and pull the Kyverno policy artifact as a Flux OCI artifact.
 * Flag names follow the Flux CLI (`flux build|push|diff|pull artifact`) where they mean the same.
 *
 * Exit codes: 0 success (diff: no differences; verify: verified), 1 failure (diff: differences;
 * verify: not signed by a given key), 2 usage error.
 * Errors are one line on stderr, except a refused policy directory: one problem per line, grouped
 * by cause (or, with --output json, the whole list as JSON on stdout). Credentials never appear in
 * any output.
 *
 * Start-up is part of every call: this file holds only the flag tables, the help and the parser,
 * and each command's module (with the YAML parser, the archive code or the registry client it
 * needs) is `require`d when that command runs, so `--help` and usage errors load none of them.
 * (`require`, not `import()`: in this CommonJS build `import()` stays a real ES import and would
 * start the ES module loader for nothing.)
 */
import * as path from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";

import { redactor, UsageError, type Flags, type Io, type Run } from "./common";
import { staleSource } from "./freshness";

export type { Io } from "./common";

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
    /** Loads the command's implementation (and only what it needs) on first use. */
    load: () => { run: Run };
}

const CONNECTION_FLAGS: Record<string, FlagSpec> = {
    creds: { type: "string", metavar: "USER:PASS", help: "registry credentials; default: the docker config (DOCKER_CONFIG or ~/.docker/config.json)" },
    insecure: { type: "boolean", aliases: ["insecure-registry"], help: "use plain HTTP (default for localhost/127.0.0.1/::1 when TLS is not offered)" },
    "ca-file": { type: "string", metavar: "FILE", help: "PEM CA bundle trusted in addition to the system CAs" },
    stats: { type: "boolean", help: "print request counters (requests, bytes, blobs) to stderr" },
    verbose: { type: "boolean", help: "log every registry request (method, URL, status) to stderr" },
};

/** The artifact's annotations; each defaults to what git says about the directory. */
const ANNOTATION_FLAGS: Record<string, FlagSpec> = {
    source: { type: "string", metavar: "S", help: "org.opencontainers.image.source annotation" },
    revision: { type: "string", metavar: "R", help: "org.opencontainers.image.revision annotation" },
    created: { type: "string", metavar: "RFC3339", help: "org.opencontainers.image.created annotation" },
};

const URL_FLAG: FlagSpec = { type: "string", metavar: "oci://HOST/REPO", help: "repository URL (required)" };
const OUTPUT_FLAG: FlagSpec = { type: "string", metavar: "json", help: "print machine-readable JSON instead of human lines" };

const COMMANDS: Record<string, CommandSpec> = {
    build: {
        summary: "Build the artifact from a policy directory and print its digests",
        usage: "artifact build --path DIR [--out FILE.tgz] [--source S] [--revision R] [--output json]",
        flags: {
            path: { type: "string", metavar: "DIR", help: "policy directory (required)" },
            out: { type: "string", metavar: "FILE", help: "keep the layer tarball (tar+gzip) at FILE" },
            ...ANNOTATION_FLAGS,
            output: OUTPUT_FLAG,
        },
        required: ["path"],
        load: () => require("./commands/build") as typeof import("./commands/build"),
    },
    push: {
        summary: "Build the artifact and push it to an OCI registry (blobs first, manifest last)",
        usage: "artifact push --path DIR --url oci://HOST[:PORT]/REPO --tag TAG [--sign-key FILE [--sign-key-password-env VAR]] [--creds USER:PASS] [--insecure] [--ca-file F] [--force] [--output json]",
        flags: {
            path: { type: "string", metavar: "DIR", help: "policy directory (required)" },
            url: URL_FLAG,
            tag: { type: "string", metavar: "TAG", help: "tag to push (required)" },
            ...ANNOTATION_FLAGS,
            force: { type: "boolean", help: "move the tag even if it points at different content" },
            "sign-key": { type: "string", metavar: "FILE", help: "sign the pushed digest with this private key (cosign generate-key-pair, or PKCS#8 ECDSA P-256)" },
            "sign-key-password-env": { type: "string", metavar: "VAR", help: "environment variable holding the signing key's password" },
            output: OUTPUT_FLAG,
            ...CONNECTION_FLAGS,
        },
        required: ["path", "url", "tag"],
        load: () => require("./commands/push") as typeof import("./commands/push"),
    },
    diff: {
        summary: "Compare a local policy directory with a pushed artifact (exit 1 when they differ)",
        usage: "artifact diff --path DIR --url oci://HOST[:PORT]/REPO --tag TAG [--creds USER:PASS] [--insecure] [--ca-file F]",
        flags: {
            path: { type: "string", metavar: "DIR", help: "local policy directory (required)" },
            url: URL_FLAG,
            tag: { type: "string", metavar: "TAG", help: "tag to compare with (required)" },
            ...CONNECTION_FLAGS,
        },
        required: ["path", "url", "tag"],
        load: () => require("./commands/diff") as typeof import("./commands/diff"),
    },
    pull: {
        summary: "Download an artifact, verify it and extract its content into a directory",
        usage: "artifact pull --url oci://HOST[:PORT]/REPO --tag TAG --output-dir DIR [--creds USER:PASS] [--insecure] [--ca-file F] [--output json]",
        flags: {
            url: URL_FLAG,
            tag: { type: "string", metavar: "TAG", help: "tag to pull (required unless the URL has @digest)" },
            "output-dir": { type: "string", metavar: "DIR", help: "directory to extract into (required)" },
            output: OUTPUT_FLAG,
            ...CONNECTION_FLAGS,
        },
        required: ["url", "output-dir"],
        load: () => require("./commands/pull") as typeof import("./commands/pull"),
    },
    verify: {
        summary: "Check that an artifact is signed by one of the keys, as cosign verify --key does (exit 1 when not)",
        usage: "artifact verify --url oci://HOST[:PORT]/REPO --tag TAG --key FILE [--creds USER:PASS] [--insecure] [--ca-file F] [--output json]",
        flags: {
            url: URL_FLAG,
            tag: { type: "string", metavar: "TAG", help: "tag to verify (required unless the URL has @digest)" },
            key: { type: "string", metavar: "FILE", help: "PEM public key(s) to trust, e.g. cosign.pub (required)" },
            output: OUTPUT_FLAG,
            ...CONNECTION_FLAGS,
        },
        required: ["url", "key"],
        load: () => require("./commands/verify") as typeof import("./commands/verify"),
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

/** parseArgs' option table for a command: its flags, their aliases, and `-h`/`--help`. */
function optionsOf(c: CommandSpec): ParseArgsConfig["options"] {
    const options: NonNullable<ParseArgsConfig["options"]> = { help: { type: "boolean", short: "h" } };
    for (const [name, spec] of Object.entries(c.flags)) {
        for (const n of [name, ...(spec.aliases ?? [])]) options[n] = { type: spec.type };
    }
    return options;
}

/**
 * Parses `--flag value`, `--flag=value` and boolean `--flag` (or `--flag=true|false`) with
 * `util.parseArgs`, then checks what it leaves to us: unknown or repeated flags, missing or empty
 * values, stray arguments, required flags. Messages name the flag, never its value (for --creds it
 * is a secret).
 */
export function parseFlags(args: string[], c: CommandSpec): Flags | "help" {
    // Not strict: parseArgs' own errors would quote the arguments; the tokens let us word them.
    const { tokens } = parseArgs({ args, options: optionsOf(c), strict: false, allowPositionals: true, tokens: true });
    const canonical = new Map<string, [string, FlagSpec]>();
    for (const [name, spec] of Object.entries(c.flags)) {
        for (const n of [name, ...(spec.aliases ?? [])]) canonical.set(n, [name, spec]);
    }
    if (tokens.some((t) => t.kind === "option" && t.name === "help")) return "help";
    const flags: Flags = {};
    for (const t of tokens) {
        if (t.kind === "positional") throw new UsageError(`unexpected argument "${t.value}"`);
        if (t.kind === "option-terminator") throw new UsageError(`unexpected argument "--"`);
        const key = t.name;
        const found = canonical.get(key);
        if (!found) throw new UsageError(`unknown flag ${t.rawName}`);
        const [name, spec] = found;
        if (flags[name] !== undefined) throw new UsageError(`flag --${key} given twice`);
        if (spec.type === "boolean") {
            if (t.inlineValue) {
                if (t.value !== "true" && t.value !== "false") throw new UsageError(`flag --${key} takes true or false`);
                flags[name] = t.value === "true";
            } else flags[name] = true;
            continue;
        }
        // parseArgs takes the next argument as the value even when it is the next flag.
        if (t.value === undefined || (!t.inlineValue && t.value.startsWith("--") && t.value.length > 2)) throw new UsageError(`flag --${key} needs a value`);
        if (t.value === "") throw new UsageError(`flag --${key} needs a non-empty value`);
        flags[name] = t.value;
    }
    for (const r of c.required) {
        if (flags[r] === undefined) throw new UsageError(`missing required flag --${r}`);
    }
    if (flags.output !== undefined && flags.output !== "json") throw new UsageError(`--output supports only "json"`);
    return flags;
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
        const { run } = spec.load();
        return await run(flags, io);
    } catch (e) {
        const err = e as Error;
        let msg = redactor.redact((err && err.message) || String(e)).replace(/\s*\n\s*/g, " ");
        if (err?.name === "OciError") {
            // The registry client says what failed; the CLI says which flag to change.
            const hints = require("./hints") as typeof import("./hints");
            const hint = hints.cliHint(e as Parameters<typeof hints.cliHint>[0]);
            if (hint) msg = `${msg}; ${hint}`;
        }
        if (err?.name === "PolicyLoadAggregateError" && typeof flags === "object") {
            const problems = require("./problems") as typeof import("./problems");
            if (e instanceof problems.PolicyLoadAggregateError) return problems.reportPolicyProblems(e, flags, io);
        }
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
    // This file is build/cli/artifact.js; the sources, when present, are two levels up.
    const stale = staleSource(path.resolve(__dirname, "..", ".."), path.resolve(__dirname, ".."));
    if (stale !== undefined) {
        process.stderr.write(`error: the compiled CLI is older than ${stale}; run npm run build (npm install also builds)\n`);
        process.exitCode = 1;
    } else {
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
}
