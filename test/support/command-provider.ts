/**
 * A stand-in for `pulumi-resource-command` (the `@pulumi/command` provider) for the end-to-end run.
 *
 * Why it exists: the Go module proxy these machines reach does not serve
 * github.com/pulumi/pulumi-command/provider at any version, so the real provider cannot be built
 * here. This plugin implements `command:local:Command` as pulumi-command 1.x documents it — the
 * part the program uses — so that the program's own Cluster component runs unchanged through the
 * real engine: `create` runs at create, `update` (or `create` again) on changes, `delete` at
 * destroy; changes to `triggers` replace; `stdin`, `environment`, `dir`, `interpreter`; outputs
 * are the inputs plus `stdout`/`stderr` with the trailing newline trimmed; the previous outputs
 * reach update/delete as PULUMI_COMMAND_STDOUT/PULUMI_COMMAND_STDERR. Users of the program get the
 * real provider, which Pulumi installs itself. Anything else (remote commands, assets) is refused.
 */
import { spawn } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const TOKEN = "command:local:Command";
/** Properties that replace the resource when they change (pulumi-command: `triggers`). */
const REPLACE_ON_CHANGE = ["triggers"];

/** Removes the SDK's secret wrappers, so commands see plain values. */
function plain(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(plain);
    if (value !== null && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (SECRET_SIG in record) return plain(record.value);
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, plain(v)]));
    }
    return value;
}

/** The resource's own type: the URN's type segment is `<parent types>$<type>`. */
function typeOf(urn: string): string {
    return (urn.split("::")[2] ?? "").split("$").pop() ?? "";
}

interface CommandInputs {
    create?: string;
    update?: string;
    delete?: string;
    stdin?: string;
    dir?: string;
    environment?: Record<string, string>;
    interpreter?: string[];
    triggers?: unknown[];
}

function run(script: string, inputs: CommandInputs, previous?: { stdout?: string; stderr?: string }): Promise<{ stdout: string; stderr: string }> {
    const [shell, ...args] = inputs.interpreter ?? ["/bin/sh", "-c"];
    const env: NodeJS.ProcessEnv = { ...process.env, ...(inputs.environment ?? {}) };
    if (previous) {
        env.PULUMI_COMMAND_STDOUT = previous.stdout ?? "";
        env.PULUMI_COMMAND_STDERR = previous.stderr ?? "";
    }
    return new Promise((resolve, reject) => {
        const child = spawn(shell, [...args, script], { cwd: inputs.dir ?? process.cwd(), env, stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
        child.stderr.on("data", (c: Buffer) => {
            stderr += c.toString("utf8");
            process.stderr.write(c);
        });
        child.on("error", reject);
        child.on("close", (code) => {
            const trim = (s: string) => s.replace(/\r?\n$/, "");
            if (code === 0) resolve({ stdout: trim(stdout), stderr: trim(stderr) });
            else reject(new Error(`exit status ${code}: running ${JSON.stringify(script.split("\n")[0])}…:\nstdout: ${trim(stdout)}\nstderr: ${trim(stderr)}`));
        });
        child.stdin.end(inputs.stdin ?? "");
    });
}

const provider: pulumi.provider.Provider = {
    version: "1.2.1",
    async check(urn, _olds, news) {
        if (typeOf(urn) !== TOKEN) return { inputs: news, failures: [{ property: "", reason: `this stand-in implements only ${TOKEN}, not ${typeOf(urn)}` }] };
        const failures = ["assetPaths", "archivePaths"].filter((k) => news[k] !== undefined).map((k) => ({ property: k, reason: "not supported by the stand-in" }));
        return { inputs: news, failures };
    },
    async diff(_id, _urn, olds, news) {
        const keys = new Set([...Object.keys(olds), ...Object.keys(news)].filter((k) => k !== "stdout" && k !== "stderr"));
        const changed = [...keys].filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]) || JSON.stringify(news[k] ?? null).includes(UNKNOWN));
        return { changes: changed.length > 0, replaces: changed.filter((k) => REPLACE_ON_CHANGE.includes(k)), deleteBeforeReplace: false };
    },
    async create(_urn, inputs) {
        const i = plain(inputs) as CommandInputs;
        const out = i.create ? await run(i.create, i) : { stdout: "", stderr: "" };
        return { id: `command-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`, outs: { ...inputs, ...out } };
    },
    async update(_id, _urn, olds, news) {
        const i = plain(news) as CommandInputs;
        const previous = plain(olds) as { stdout?: string; stderr?: string };
        const script = i.update ?? i.create;
        const out = script ? await run(script, i, previous) : { stdout: previous.stdout ?? "", stderr: previous.stderr ?? "" };
        return { outs: { ...news, ...out } };
    },
    async delete(_id, _urn, props) {
        const p = plain(props) as CommandInputs & { stdout?: string; stderr?: string };
        if (p.delete) await run(p.delete, p, p);
    },
    async read(id, _urn, props) {
        return { id, props };
    },
};

pulumi.provider.main(provider, process.argv.slice(2)).catch((e: Error) => {
    console.error(e.stack ?? String(e));
    process.exit(1);
});
