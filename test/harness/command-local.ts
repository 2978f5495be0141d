/**
 * `command:local:Command` as pulumi-command 1.2.1 implements it (provider/pkg/provider/local/ on top
 * of pulumi-go-provider 1.3's `infer` layer), for the end-to-end run's stand-in
 * (command-provider.ts, which only adds the gRPC wiring). No gRPC and no Pulumi runtime here, so the
 * unit tests exercise it directly. Assets and archives are not implemented.
 *
 * What users notice, and where it comes from in pulumi-command:
 * - `logging` (local/logging.go): which of stdout/stderr reach the engine's log, line by line as
 *   ephemeral info messages of the resource; default both. The outputs capture both either way.
 * - the error of a failed command (local/commandOutputs.go `run`):
 *   `fmt.Errorf("%w: running %q:\n%s", err, command, stdoutAndStderr)`, e.g.
 *   `exit status 1: running "false":\n` followed by everything the command printed, both streams,
 *   whatever `logging` says.
 * - preview: a create's stdout/stderr are unknown; an update keeps the previous stdout/stderr unless
 *   an input the resource already had changed or any input is unknown (infer's default flow: every
 *   output depends on every input), in which case they are unknown.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";

export const TOKEN = "command:local:Command";
/** The engine's marker of an unknown value (plugin protocol). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** The resource's inputs (common.ResourceInputs and local.BaseInputs), in the order of the source. */
export const INPUT_KEYS = ["triggers", "create", "update", "delete", "stdin", "logging", "interpreter", "dir", "environment", "assetPaths", "archivePaths", "addPreviousOutputInEnv"];
/** Inputs tagged `provider:"replaceOnChanges"`. */
const REPLACE_ON_CHANGES = ["triggers"];

export type Props = Record<string, unknown>;

export interface CommandInputs {
    create?: string;
    update?: string;
    delete?: string;
    stdin?: string;
    logging?: string;
    interpreter?: string[];
    dir?: string;
    environment?: Record<string, string>;
    addPreviousOutputInEnv?: boolean;
    triggers?: unknown[];
}

export interface CommandOutputs {
    stdout: string;
    stderr: string;
}

/** Removes the protocol's secret wrappers, so commands see plain values. */
export function plain(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(plain);
    if (value !== null && typeof value === "object") {
        const record = value as Props;
        if (SECRET_SIG in record) return plain(record.value);
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, plain(v)]));
    }
    return value;
}

/** The resource's own type: the URN's type segment is `<parent types>$<type>`. */
export function typeOf(urn: string): string {
    return (urn.split("::")[2] ?? "").split("$").pop() ?? "";
}

/** Values compared as the protocol carries them (a secret differs from the same value in clear). */
function same(a: unknown, b: unknown): boolean {
    const canonical = (v: unknown): unknown =>
        Array.isArray(v) ? v.map(canonical)
            : v !== null && typeof v === "object" ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, x]) => [k, canonical(x)]))
                : v;
    return JSON.stringify(canonical(a ?? null)) === JSON.stringify(canonical(b ?? null));
}

function isUnknown(v: unknown): boolean {
    return v === UNKNOWN || (v !== null && typeof v === "object" && SECRET_SIG in v && (v as Props).value === UNKNOWN);
}

/** `Logging.ShouldLogStdout/ShouldLogStderr`: unset logs both, an unrecognised value neither. */
export function loggedStreams(logging: unknown): { stdout: boolean; stderr: boolean } {
    const unset = logging === undefined || logging === null;
    return {
        stdout: unset || logging === "stdout" || logging === "stdoutAndStderr",
        stderr: unset || logging === "stderr" || logging === "stdoutAndStderr",
    };
}

const GO_ESCAPES: Record<string, string> = { "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v" };
const GO_PRINTABLE = /^[ \p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's `%q` (strconv.Quote): printable characters as they are, the rest escaped. */
export function goQuote(s: string): string {
    let out = "";
    for (const ch of s) {
        const r = ch.codePointAt(0)!;
        const hex = (n: number) => r.toString(16).padStart(n, "0");
        if (ch === '"' || ch === "\\") out += `\\${ch}`;
        else if (GO_PRINTABLE.test(ch)) out += ch;
        else if (GO_ESCAPES[ch]) out += GO_ESCAPES[ch];
        else if (r < 0x20 || r === 0x7f) out += `\\x${hex(2)}`;
        else if (r < 0x10000) out += `\\u${hex(4)}`;
        else out += `\\U${hex(8)}`;
    }
    return `"${out}"`;
}

/** Go's names of the Linux signals (syscall's signal table), by number. */
const GO_SIGNALS = ["", "hangup", "interrupt", "quit", "illegal instruction", "trace/breakpoint trap", "aborted",
    "bus error", "floating point exception", "killed", "user defined signal 1", "segmentation fault",
    "user defined signal 2", "broken pipe", "alarm clock", "terminated", "stack fault", "child exited", "continued",
    "stopped (signal)", "stopped", "stopped (tty input)", "stopped (tty output)", "urgent I/O condition",
    "CPU time limit exceeded", "file size limit exceeded", "virtual timer expired", "profiling timer expired",
    "window changed", "I/O possible", "power failure", "bad system call"];

/** `(*exec.ExitError).Error()`: `exit status N`, or `signal: killed` and the like. */
export function exitDescription(code: number | null, signal: NodeJS.Signals | null): string {
    if (!signal) return `exit status ${code}`;
    const n = os.constants.signals[signal];
    return `signal: ${GO_SIGNALS[n] || `signal ${n}`}`;
}

/** The error of a failed run: `<cause>: running "<command>":\n<stdout and stderr as printed>`. */
export function commandFailure(cause: string, command: string, output: string): string {
    return `${cause}: running ${goQuote(command)}:\n${output}`;
}

/** The environment: the provider's, then `environment`, then the previous outputs (non-empty ones). */
export function commandEnv(base: NodeJS.ProcessEnv, inputs: CommandInputs, previous?: Partial<CommandOutputs>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...base, ...(inputs.environment ?? {}) };
    if (previous && inputs.addPreviousOutputInEnv !== false) {
        if (previous.stdout) env.PULUMI_COMMAND_STDOUT = previous.stdout;
        if (previous.stderr) env.PULUMI_COMMAND_STDERR = previous.stderr;
    }
    return env;
}

/** Cuts the logged text into lines as Go's bufio.ScanLines does: one log message per line. */
export class LineLog {
    private rest = "";
    constructor(private readonly emit: (line: string) => void) {}
    write(text: string): void {
        this.rest += text;
        for (let i = this.rest.indexOf("\n"); i >= 0; i = this.rest.indexOf("\n")) {
            this.emit(this.rest.slice(0, i).replace(/\r$/, ""));
            this.rest = this.rest.slice(i + 1);
        }
    }
    end(): void {
        if (this.rest !== "") this.emit(this.rest.replace(/\r$/, ""));
        this.rest = "";
    }
}

/** Why a command did not start, in Go's words (os/exec, os.StartProcess). */
function startFailure(e: NodeJS.ErrnoException, file: string): string {
    if (e.code !== "ENOENT") return e.message;
    return file.includes("/") ? `fork/exec ${file}: no such file or directory` : `exec: ${goQuote(file)}: executable file not found in $PATH`;
}

/**
 * Runs one of the resource's commands (`run` in local/commandOutputs.go). `log` receives each line of
 * the streams `logging` selects; `previous` are the outputs of the last create/update (update and
 * delete). Resolves to the outputs, with one trailing newline trimmed; rejects with pulumi-command's
 * error.
 */
export function runCommand(command: string, inputs: CommandInputs, log: (line: string) => void, previous?: Partial<CommandOutputs>): Promise<CommandOutputs> {
    const [file, ...args] = inputs.interpreter?.length ? inputs.interpreter : ["/bin/sh", "-c"];
    const dir = inputs.dir ?? process.cwd();
    if (!fs.existsSync(dir)) return Promise.reject(new Error(commandFailure(`chdir ${dir}: no such file or directory`, command, "")));
    const logged = loggedStreams(inputs.logging);
    const lines = new LineLog(log);
    return new Promise((resolve, reject) => {
        const child = spawn(file, [...args, command], { cwd: dir, env: commandEnv(process.env, inputs, previous) });
        let stdout = "";
        let stderr = "";
        let both = "";
        child.stdout.setEncoding("utf8").on("data", (text: string) => {
            stdout += text;
            both += text;
            if (logged.stdout) lines.write(text);
        });
        child.stderr.setEncoding("utf8").on("data", (text: string) => {
            stderr += text;
            both += text;
            if (logged.stderr) lines.write(text);
        });
        child.on("error", (e) => reject(new Error(commandFailure(startFailure(e, file), command, both))));
        child.on("close", (code, signal) => {
            lines.end();
            const trim = (s: string) => (s.endsWith("\n") ? s.slice(0, -1) : s);
            if (code === 0) resolve({ stdout: trim(stdout), stderr: trim(stderr) });
            else reject(new Error(commandFailure(exitDescription(code, signal), command, both)));
        });
        child.stdin.on("error", () => undefined); // a command that does not read its stdin
        child.stdin.end(inputs.stdin ?? ""); // none: end of input at once, as Go's /dev/null
    });
}

/** Check: only `command:local:Command`, without assets or archives. */
export function checkFailures(urn: string, news: Props): { property: string; reason: string }[] {
    if (typeOf(urn) !== TOKEN) return [{ property: "", reason: `this stand-in implements only ${TOKEN}, not ${typeOf(urn)}` }];
    return ["assetPaths", "archivePaths"].filter((k) => news[k] !== undefined).map((k) => ({ property: k, reason: "not supported by the stand-in" }));
}

/** The inputs recorded in a state (for an engine that does not send the old inputs). */
export function inputsOf(state: Props): Props {
    return Object.fromEntries(Object.entries(state).filter(([k]) => INPUT_KEYS.includes(k)));
}

/**
 * Diff (infer's default): the top-level inputs that differ between the old inputs and the new ones
 * (an unknown differs from everything), `triggers` replacing.
 */
export function diffInputs(oldInputs: Props, news: Props): { diffs: string[]; replaces: string[] } {
    const internal = (k: string) => k === "version" || k.startsWith("__");
    const keys = new Set([...Object.keys(oldInputs), ...Object.keys(news)].filter((k) => !internal(k)));
    const diffs = [...keys].filter((k) => isUnknown(news[k]) || !same(oldInputs[k], news[k])).sort();
    return { diffs, replaces: diffs.filter((k) => REPLACE_ON_CHANGES.includes(k)) };
}

/** A create's outputs: the inputs and stdout/stderr (unknown in a preview). */
export function createOutputs(inputs: Props, result: CommandOutputs | "preview"): Props {
    return { ...inputs, ...(result === "preview" ? { stdout: UNKNOWN, stderr: UNKNOWN } : result) };
}

/**
 * An update's outputs in a preview: the new inputs with the previous stdout/stderr, unknown when an
 * input the old state holds has changed or an input is unknown.
 */
export function updatePreviewOutputs(olds: Props, news: Props): Props {
    const stale = INPUT_KEYS.some((k) => isUnknown(news[k]) || (k in olds && !same(olds[k], news[k])));
    const previous = (k: string) => (stale ? UNKNOWN : typeof olds[k] === "string" ? olds[k] : "");
    return { ...news, stdout: previous("stdout"), stderr: previous("stderr") };
}

/** The outputs a resource had (stdout/stderr of the last create or update). */
export function previousOutputs(olds: Props): CommandOutputs {
    const p = plain(olds) as Partial<CommandOutputs>;
    return { stdout: p.stdout ?? "", stderr: p.stderr ?? "" };
}
