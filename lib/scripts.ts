/**
 * The shell scripts the components run through `@pulumi/command`: POSIX sh files in `lib/sh/`,
 * linted by shellcheck (`npm run lint`) and read at run time. No value is ever written into a
 * script's text: a Command's `environment` carries the script (`POLICY_STACK_SCRIPT`) and its
 * parameters (documented at the top of each file), and its command line is a short constant. That
 * line is what pulumi-command quotes when a command fails (`exit status 1: running "sh -c
 * \"$POLICY_STACK_SCRIPT\" flux-wait.sh":` and then what the script printed), and any change of
 * the script or of a parameter is a change of the `environment` input, so Pulumi updates the
 * Command (a delete step then runs what the last update recorded). Pure module: no Pulumi.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The environment variable that holds the script's text. */
export const SCRIPT_VARIABLE = "POLICY_STACK_SCRIPT";

/**
 * The `lib/sh` directory as seen from a module in `moduleDir`: beside it when the program runs
 * from its TypeScript sources (`lib/`), the sources' one when it runs compiled (`build/lib/`).
 * The same holds where the package is installed for another program.
 */
export function findScriptsDir(moduleDir: string): string {
    const candidates = [path.join(moduleDir, "sh"), path.join(moduleDir, "..", "..", "lib", "sh")];
    const found = candidates.find((dir) => fs.existsSync(path.join(dir, "kubectl.sh")));
    if (found === undefined) {
        throw new Error(`the program's shell scripts (lib/sh/*.sh) are missing: looked in ${candidates.join(" and ")}; ` +
            "ship lib/sh with the program");
    }
    return found;
}

let scriptsDir: string | undefined;
const texts = new Map<string, string>();

/** The text of `lib/sh/<file>`. */
export function readScript(file: string): string {
    let text = texts.get(file);
    if (text === undefined) {
        scriptsDir ??= findScriptsDir(__dirname);
        text = fs.readFileSync(path.join(scriptsDir, file), "utf8");
        texts.set(file, text);
    }
    return text;
}

/** Script file names and their arguments are words of our own, never values. */
const WORD = /^[A-Za-z0-9._-]+$/;

/**
 * The command line that runs the script in `POLICY_STACK_SCRIPT`, with `args` (a step name such
 * as `create`). The file name becomes `$0`, so the shell's own errors name the script.
 */
export function scriptCommand(file: string, ...args: string[]): string {
    for (const word of [file, ...args]) if (!WORD.test(word)) throw new Error(`not a plain word: ${JSON.stringify(word)}`);
    return [`sh -c "$${SCRIPT_VARIABLE}"`, file, ...args].join(" ");
}

/**
 * `scriptCommand`, detached from the caller: nohup, every stream closed, in the background, so the
 * command returns at once while the script goes on (inheriting the environment).
 */
export function detachedScriptCommand(file: string, ...args: string[]): string {
    return `nohup ${scriptCommand(file, ...args)} </dev/null >/dev/null 2>&1 &`;
}

/** A whole number of seconds, at least 1, as the scripts' `TIMEOUT_SECONDS` takes it. */
export function wholeSeconds(seconds: number): string {
    return String(Math.max(1, Math.floor(seconds)));
}
