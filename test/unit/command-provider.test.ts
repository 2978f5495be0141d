/**
 * The end-to-end run's `command:local:Command` stand-in, without gRPC: what pulumi-command 1.2.1
 * does that users see (logged streams, the error of a failed command, outputs in a preview, diffs).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    checkFailures, commandEnv, commandFailure, createOutputs, diffInputs, exitDescription, goQuote, inputsOf, LineLog,
    loggedStreams, plain, previousOutputs, runCommand, typeOf, UNKNOWN, updatePreviewOutputs, type CommandInputs,
} from "../harness/command-local";

const SIG = "4dabf18193072939515e22adb298388d";
const secret = (value: unknown) => ({ [SIG]: "1b47061264138c4ac30d75fd1eb44270", value });

/** The output part of a failure message (both streams; how they interleave is up to the OS). */
function outputOf(message: string): string {
    return message.slice(message.indexOf(":\n") + 2);
}

/** Runs a command, returning its outputs (or its error) and the lines it logged. */
async function run(command: string, inputs: CommandInputs = {}, previous?: { stdout: string; stderr: string }) {
    const logged: string[] = [];
    try {
        const out = await runCommand(command, inputs, (line) => logged.push(line), previous);
        return { ...out, logged, error: undefined };
    } catch (e) {
        return { stdout: undefined, stderr: undefined, logged, error: (e as Error).message };
    }
}

describe("logging: the streams that reach the engine", () => {
    test("each value of the enum, unset and an unrecognised value (as local/logging.go)", () => {
        const table: [unknown, boolean, boolean][] = [
            [undefined, true, true],
            ["stdoutAndStderr", true, true],
            ["stdout", true, false],
            ["stderr", false, true],
            ["none", false, false],
            ["STDOUT", false, false],
        ];
        for (const [logging, stdout, stderr] of table) assert.deepEqual(loggedStreams(logging), { stdout, stderr }, String(logging));
    });

    test("a command logs only the chosen streams, one message per line; the outputs hold both", async () => {
        const script = "echo out1; echo out2; echo err1 >&2";
        for (const [logging, want] of [
            [undefined, ["err1", "out1", "out2"]],
            ["stdoutAndStderr", ["err1", "out1", "out2"]],
            ["stdout", ["out1", "out2"]],
            ["stderr", ["err1"]],
            ["none", []],
        ] as const) {
            const r = await run(script, { logging });
            assert.deepEqual([...r.logged].sort(), want, String(logging));
            assert.equal(r.stdout, "out1\nout2");
            assert.equal(r.stderr, "err1");
        }
    });

    test("lines are cut as Go's bufio.ScanLines: across writes, CRLF, a last line without newline, empty lines", () => {
        const lines: string[] = [];
        const log = new LineLog((l) => lines.push(l));
        log.write("par");
        log.write("tial\r\nsecond\n\nthi");
        assert.deepEqual(lines, ["partial", "second", ""]);
        log.write("rd");
        log.end();
        log.end();
        assert.deepEqual(lines, ["partial", "second", "", "third"]);
    });
});

describe("the error of a failed command (local/commandOutputs.go)", () => {
    test("Go's %q of the command", () => {
        const table: [string, string][] = [
            ["exit 1", `"exit 1"`],
            [`echo "a\\b"`, `"echo \\"a\\\\b\\""`],
            ["a\nb\tc\r\x07\b\f\v", `"a\\nb\\tc\\r\\a\\b\\f\\v"`],
            ["\x01\x1b\x7f", `"\\x01\\x1b\\x7f"`],
            ["é ü 😀 ✓", `"é ü 😀 ✓"`],
            ["\u00a0\u0085\u200b\ue000", `"\\u00a0\\u0085\\u200b\\ue000"`],
            ["\u{f0000}", `"\\U000f0000"`],
        ];
        for (const [s, want] of table) assert.equal(goQuote(s), want, JSON.stringify(s));
    });

    test("exit status or signal, as (*exec.ExitError).Error()", () => {
        assert.equal(exitDescription(1, null), "exit status 1");
        assert.equal(exitDescription(127, null), "exit status 127");
        assert.equal(exitDescription(null, "SIGKILL"), "signal: killed");
        assert.equal(exitDescription(null, "SIGTERM"), "signal: terminated");
        assert.equal(exitDescription(null, "SIGUSR1"), "signal: user defined signal 1");
    });

    test("format: `<cause>: running <%q command>:` then all the output", () => {
        assert.equal(commandFailure("exit status 2", "set -e\nfalse", "out\nerr\n"), `exit status 2: running "set -e\\nfalse":\nout\nerr\n`);
    });

    test("a failing command: its whole script quoted, then stdout and stderr whatever logging says", async () => {
        const r = await run("printf 'partial output'; echo 'it failed' >&2; exit 3", { logging: "none" });
        assert.match(r.error!, /^exit status 3: running "printf 'partial output'; echo 'it failed' >&2; exit 3":\n/);
        const output = outputOf(r.error!);
        assert.ok(output === "partial outputit failed\n" || output === "it failed\npartial output", output);
        assert.deepEqual(r.logged, []);

        const multiline = await run("echo \"waiting\"\necho 'gave up' >&2\nexit 1", { logging: "stderr" });
        assert.ok(multiline.error!.startsWith(`exit status 1: running "echo \\"waiting\\"\\necho 'gave up' >&2\\nexit 1":\n`), multiline.error);
        assert.deepEqual(outputOf(multiline.error!).split("\n").sort(), ["", "gave up", "waiting"]);
        assert.deepEqual(multiline.logged, ["gave up"]);
    });

    test("killed by a signal, interpreter missing, directory missing", async () => {
        assert.equal((await run("kill -TERM $$")).error, `signal: terminated: running "kill -TERM $$":\n`);
        assert.equal((await run("true", { interpreter: ["no-such-shell-for-the-test"] })).error,
            `exec: "no-such-shell-for-the-test": executable file not found in $PATH: running "true":\n`);
        assert.equal((await run("true", { interpreter: ["/no/such/sh", "-c"] })).error, `fork/exec /no/such/sh: no such file or directory: running "true":\n`);
        assert.equal((await run("true", { dir: "/no/such/dir" })).error, `chdir /no/such/dir: no such file or directory: running "true":\n`);
    });
});

describe("running a command", () => {
    test("outputs lose one trailing newline; stdin, dir, environment and the interpreter reach the command", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "command-test-"));
        try {
            const r = await run("cat; pwd; echo \"$GREETING\"; printf 'x\\n\\n'", { stdin: "from stdin\n", dir, environment: { GREETING: "hello" }, logging: "none" });
            assert.equal(r.error, undefined);
            assert.equal(r.stdout, `from stdin\n${fs.realpathSync(dir)}\nhello\nx\n`);
            const viaInterpreter = await run("print('hi')", { interpreter: ["/bin/sh", "-c", "echo \"$1\"", "sh"] });
            assert.equal(viaInterpreter.stdout, "print('hi')");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("the previous outputs reach the command as PULUMI_COMMAND_STDOUT/STDERR unless addPreviousOutputInEnv is false", async () => {
        const script = "echo \"${PULUMI_COMMAND_STDOUT-unset}|${PULUMI_COMMAND_STDERR-unset}\"";
        assert.equal((await run(script, {}, { stdout: "old out", stderr: "old err" })).stdout, "old out|old err");
        assert.equal((await run(script, { addPreviousOutputInEnv: false }, { stdout: "old out", stderr: "old err" })).stdout, "unset|unset");
        assert.equal((await run(script, {}, { stdout: "old out", stderr: "" })).stdout, "old out|unset");
    });

    test("environment: the provider's, then `environment`, then the previous outputs", () => {
        const env = commandEnv({ A: "base", B: "base", PULUMI_COMMAND_STDOUT: "engine" }, { environment: { B: "input", PULUMI_COMMAND_STDOUT: "input" } }, { stdout: "previous", stderr: "" });
        assert.deepEqual(env, { A: "base", B: "input", PULUMI_COMMAND_STDOUT: "previous" });
    });
});

describe("diff (infer's default diff, `triggers` replaces)", () => {
    const olds = { create: "make", environment: { B: "2", A: "1" }, triggers: ["r1"], logging: "stderr" };
    test("no change, whatever the key order", () => {
        assert.deepEqual(diffInputs(olds, { logging: "stderr", triggers: ["r1"], environment: { A: "1", B: "2" }, create: "make" }), { diffs: [], replaces: [] });
    });
    test("a changed command updates, a changed trigger replaces, added and removed inputs count", () => {
        assert.deepEqual(diffInputs(olds, { ...olds, create: "make all" }), { diffs: ["create"], replaces: [] });
        assert.deepEqual(diffInputs(olds, { ...olds, triggers: ["r2"] }), { diffs: ["triggers"], replaces: ["triggers"] });
        assert.deepEqual(diffInputs(olds, { ...olds, dir: "/tmp", logging: undefined }), { diffs: ["dir", "logging"], replaces: [] });
    });
    test("unknowns differ; a value turning secret differs; `version` and `__` keys are ignored", () => {
        assert.deepEqual(diffInputs(olds, { ...olds, triggers: UNKNOWN }), { diffs: ["triggers"], replaces: ["triggers"] });
        assert.deepEqual(diffInputs(olds, { ...olds, environment: secret({ A: "1", B: "2" }) }).diffs, ["environment"]);
        assert.deepEqual(diffInputs(olds, { ...olds, version: "1.2.1", __defaults: [] }).diffs, []);
    });
    test("old inputs from a state: only the inputs", () => {
        assert.deepEqual(inputsOf({ ...olds, stdout: "x", stderr: "" }), olds);
    });
});

describe("outputs in a preview", () => {
    test("create: stdout and stderr unknown; after the run, the run's", () => {
        const inputs = { create: "make", environment: secret({ K: "v" }) };
        assert.deepEqual(createOutputs(inputs, "preview"), { ...inputs, stdout: UNKNOWN, stderr: UNKNOWN });
        assert.deepEqual(createOutputs(inputs, { stdout: "o", stderr: "e" }), { ...inputs, stdout: "o", stderr: "e" });
    });

    const olds = { create: "kind create", stdin: "config", logging: "stderr", stdout: "kubeconfig", stderr: "created" };
    const { stdout: _o, stderr: _e, ...oldInputs } = olds;
    test("update: the previous stdout/stderr when no input the state holds changed (e.g. a new input)", () => {
        assert.deepEqual(updatePreviewOutputs(olds, { ...oldInputs, dir: "/work" }), { ...oldInputs, dir: "/work", stdout: "kubeconfig", stderr: "created" });
        assert.deepEqual(updatePreviewOutputs({ create: "x" }, { create: "x", update: "y" }), { create: "x", update: "y", stdout: "", stderr: "" });
    });
    test("update: unknown when an input the state holds changed or went, or when an input is unknown", () => {
        for (const news of [
            { ...oldInputs, stdin: "other config" },
            { create: "kind create", stdin: "config" },
            { ...oldInputs, stdin: secret("config") },
            { ...oldInputs, environment: UNKNOWN },
            { ...oldInputs, environment: secret(UNKNOWN) },
            { ...oldInputs, stdin: UNKNOWN },
        ]) {
            const out = updatePreviewOutputs(olds, news);
            assert.deepEqual([out.stdout, out.stderr], [UNKNOWN, UNKNOWN], JSON.stringify(news));
            assert.deepEqual({ ...out, stdout: undefined, stderr: undefined }, { ...news, stdout: undefined, stderr: undefined });
        }
    });
    test("previous outputs, secret or not", () => {
        assert.deepEqual(previousOutputs({ stdout: secret("kubeconfig") }), { stdout: "kubeconfig", stderr: "" });
    });
});

describe("check and plumbing", () => {
    test("only command:local:Command, without assets or archives", () => {
        const urn = "urn:pulumi:dev::policy-stack::policy-stack:index:Cluster$command:local:Command::dev-kind";
        assert.equal(typeOf(urn), "command:local:Command");
        assert.deepEqual(checkFailures(urn, { create: "x" }), []);
        assert.deepEqual(checkFailures(urn, { create: "x", assetPaths: ["*"] }), [{ property: "assetPaths", reason: "not supported by the stand-in" }]);
        assert.match(checkFailures("urn:pulumi:dev::p::command:remote:Command::r", {})[0].reason, /only command:local:Command, not command:remote:Command/);
    });
    test("secrets are unwrapped for the command", () => {
        assert.deepEqual(plain({ environment: secret({ K: "v" }), triggers: [secret("t"), 1] }), { environment: { K: "v" }, triggers: ["t", 1] });
    });
});
