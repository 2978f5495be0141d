/**
 * Runs the program's scripts (lib/sh/*.sh) the way its Commands do: the Command's line under
 * `/bin/sh -c`, with the Command's environment (the script and its parameters), against fake tools
 * put first on PATH.
 */
import { spawnSync, SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../harness/paths";

export interface ScriptRunOptions {
    /** A directory of fake tools, put first on PATH. */
    binDir: string;
    stdin?: string;
    /** More environment, e.g. what the component adds (KUBECONFIG_DATA). */
    env?: Record<string, string>;
}

/** `/bin/sh -c <command>` with the process's environment, then `environment`, then `opts.env`. */
export function runCommandLine(command: string, environment: Record<string, string>, opts: ScriptRunOptions): SpawnSyncReturns<string> {
    return spawnSync("/bin/sh", ["-c", command], {
        encoding: "utf8",
        input: opts.stdin ?? "",
        env: { ...process.env, PATH: `${opts.binDir}:${process.env.PATH}`, ...environment, ...opts.env },
    });
}

/** The text of lib/sh/<file>, read directly (not through the program's loader). */
export function scriptFile(file: string): string {
    return fs.readFileSync(path.join(repoRoot, "lib", "sh", file), "utf8");
}

/**
 * A fake tool that appends `<name> [arg] [arg] …` to `<dir>/calls.log` and then runs `body`
 * (POSIX sh, `$d` being `dir`).
 */
export function fakeTool(dir: string, name: string, body: string): void {
    fs.writeFileSync(path.join(dir, name), `#!/bin/sh
d=${JSON.stringify(dir)}
{ printf '%s' ${JSON.stringify(name)}; for a in "$@"; do printf ' [%s]' "$a"; done; echo; } >> "$d/calls.log"
${body}
`, { mode: 0o755 });
}

/** The lines of `<dir>/calls.log`. */
export function calls(dir: string): string[] {
    const file = path.join(dir, "calls.log");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}
