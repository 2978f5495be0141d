/**
 * The end-to-end workspace: a temporary directory holding a copy of the Pulumi program (sources
 * copied, node_modules linked), a local file backend, a private PULUMI_HOME, the kwokctl work
 * directory behind the kind shim, and the logs of everything that ran. Every command goes through
 * `run`, which records its output so a failing test can print the whole story.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { Kubectl } from "./kube";
import { repoRoot } from "./paths";
import { checkOk, run, tail, type RunResult } from "./processes";
import type { ToolChain } from "./tools";

/** A workspace command's result: `log` names its log file. */
export type LoggedRunResult = RunResult & { log: string };

export interface WorkspaceRunOptions {
    /** Defaults to the project directory. */
    cwd?: string;
    /** Added to the workspace environment. */
    env?: NodeJS.ProcessEnv;
    input?: string;
    /** Defaults to 15 minutes. */
    timeoutMs?: number;
    /** Short label for the log file name. */
    label?: string;
    /** No log file (for polling loops); the result is still returned. */
    quiet?: boolean;
}

/** The program's own files: everything `pulumi up` needs besides node_modules. */
const PROGRAM_FILES = ["Pulumi.yaml", "package.json", "tsconfig.json", "index.ts", "components", "lib"];

export class E2eWorkspace {
    readonly root: string;
    readonly projectDir: string;
    readonly backendDir: string;
    readonly pulumiHome: string;
    readonly kwokWorkdir: string;
    readonly logDir: string;
    readonly shimLog: string;
    /** A kubeconfig that points nowhere: no child ever falls back to the user's ~/.kube/config. */
    readonly nullKubeconfig: string;
    readonly passphrase = `e2e-${crypto.randomBytes(12).toString("hex")}`;
    /** Environment of every command: the tool chain on PATH, the backend, no update checks or plugin downloads. */
    readonly env: NodeJS.ProcessEnv;
    private seq = 0;
    private readonly history: { label: string; log: string; code: number; ms: number }[] = [];

    constructor(readonly tools: ToolChain) {
        this.root = fs.mkdtempSync(path.join(os.tmpdir(), "policy-stack-e2e-"));
        this.projectDir = path.join(this.root, "project");
        this.backendDir = path.join(this.root, "backend");
        this.pulumiHome = path.join(this.root, "pulumi-home");
        this.kwokWorkdir = path.join(this.root, "kwok");
        this.logDir = path.join(this.root, "logs");
        this.shimLog = path.join(this.logDir, "kind-shim.jsonl");
        this.nullKubeconfig = path.join(this.root, "kubeconfig-none");
        for (const d of [this.backendDir, this.pulumiHome, this.kwokWorkdir, this.logDir]) fs.mkdirSync(d, { recursive: true });
        fs.writeFileSync(this.nullKubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n");
        fs.writeFileSync(this.shimLog, "");
        this.copyProgram();

        const inherited = Object.fromEntries(
            Object.entries(process.env).filter(([k]) => !/^(PULUMI_|KWOK_|KUBECONFIG$)/.test(k)),
        );
        this.env = {
            ...inherited,
            PATH: [...tools.pathDirs, process.env.PATH ?? ""].join(path.delimiter),
            PULUMI_BACKEND_URL: `file://${this.backendDir}`,
            PULUMI_HOME: this.pulumiHome,
            PULUMI_CONFIG_PASSPHRASE: this.passphrase,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            // Providers are the ambient ones on PATH (PULUMI_IGNORE_AMBIENT_PLUGINS must stay unset).
            PULUMI_SKIP_CONFIRMATIONS: "true",
            PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
            // No PULUMI_NODEJS_TRANSPILE_ONLY: the program runs as users run it, transpile-only through
            // the "ts-node" section of its tsconfig.json (copied above); PULUMI_* from the caller is dropped.
            NO_COLOR: "1",
            KWOK_WORKDIR: this.kwokWorkdir,
            POLICY_STACK_KIND_SHIM_LOG: this.shimLog,
            KUBECONFIG: this.nullKubeconfig,
        };
    }

    /** Copies the program (not its stack files) and links the checkout's node_modules. */
    private copyProgram(): void {
        fs.mkdirSync(this.projectDir);
        for (const f of PROGRAM_FILES) {
            fs.cpSync(path.join(repoRoot, f), path.join(this.projectDir, f), { recursive: true });
        }
        fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(this.projectDir, "node_modules"), "dir");
    }

    /** Runs a command with the workspace environment, logging it; resolves with its result. */
    async run(cmd: string, args: string[], opts: WorkspaceRunOptions = {}): Promise<LoggedRunResult> {
        const n = String(opts.quiet ? this.seq : ++this.seq).padStart(3, "0");
        const label = `${n}-${(opts.label ?? [path.basename(cmd), ...args.slice(0, 2)].join("-")).replace(/[^A-Za-z0-9_.-]+/g, "_")}`;
        const log = path.join(this.logDir, `${label}.log`);
        const r = await run(cmd, args, {
            cwd: opts.cwd ?? this.projectDir,
            env: { ...this.env, ...opts.env },
            input: opts.input ?? "",
            timeoutMs: opts.timeoutMs ?? 15 * 60_000,
            // The whole process group at the timeout: pulumi's plugins and the program go with it.
            processGroup: true,
            log: opts.quiet ? undefined : log,
        });
        const ms = Math.round(r.ms);
        if (!opts.quiet) this.history.push({ label, log, code: r.code, ms });
        return { ...r, ms, log };
    }

    /** `pulumi <args>` in the project directory (or `cwd`). */
    pulumi(args: string[], opts: WorkspaceRunOptions = {}): Promise<LoggedRunResult> {
        return this.run(this.tools.tools.pulumi, [...args, "--non-interactive"], { label: `pulumi-${args.slice(0, 2).join("-")}`, ...opts });
    }

    /** Like `pulumi`, but throws with the output tail when the exit code is not 0. */
    async pulumiOk(args: string[], opts: WorkspaceRunOptions = {}): Promise<LoggedRunResult> {
        return checkOk(await this.pulumi(args, opts), `pulumi ${args.join(" ")}`);
    }

    /** kubectl of the tool chain against `kubeconfig`, its commands logged here. */
    kubectl(kubeconfig: string): Kubectl {
        return new Kubectl(this.tools.tools.kubectl, kubeconfig, (cmd, args, o) => this.run(cmd, args, o));
    }

    /** The kind shim's invocation log, parsed. */
    shimCalls(): { argv: string[]; exit: number; cluster?: string; message?: string }[] {
        return fs.readFileSync(this.shimLog, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    }

    /** One line per command run so far: exit code, time, log file. */
    summary(): string {
        return this.history.map((h) => `  ${h.code === 0 ? "ok  " : `E${h.code}`.padEnd(4)} ${(h.ms / 1000).toFixed(1).padStart(7)}s  ${h.label}`).join("\n");
    }

    /** Prints the command summary and the tail of every log (for failures). */
    dumpLogs(write: (s: string) => void = (s) => process.stderr.write(s), tailChars = 4000): void {
        write(`\n===== e2e harness logs (${this.logDir}) =====\n${this.summary()}\n`);
        for (const f of fs.readdirSync(this.logDir).sort()) {
            const p = path.join(this.logDir, f);
            if (!fs.statSync(p).isFile()) continue;
            write(`\n----- ${f} -----\n${tail(fs.readFileSync(p, "utf8"), tailChars)}\n`);
        }
    }

    /** Removes the workspace (keep it with POLICY_STACK_E2E_KEEP=1). */
    remove(): void {
        if (process.env.POLICY_STACK_E2E_KEEP) {
            process.stderr.write(`e2e workspace kept: ${this.root}\n`);
            return;
        }
        fs.rmSync(this.root, { recursive: true, force: true });
    }
}
