/** The CLI's flag parsing (util.parseArgs plus our checks), in-process: exit codes and wording. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { main } from "../../cli/artifact";

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s) });
    return { code, out, err };
}

const PUSH = ["push", "--path", ".", "--url", "oci://127.0.0.1:1/x", "--tag", "v1"];

describe("CLI flags", () => {
    const usage: [string[], RegExp][] = [
        [[...PUSH, "--tag", "v2"], /^error: flag --tag given twice$/m],
        [[...PUSH, "--insecure", "--insecure-registry"], /^error: flag --insecure-registry given twice$/m],
        [[...PUSH, "--creds"], /^error: flag --creds needs a value$/m],
        [["push", "--path", "--url", "oci://127.0.0.1:1/x", "--tag", "v1"], /^error: flag --path needs a value$/m],
        [[...PUSH, "--creds="], /^error: flag --creds needs a non-empty value$/m],
        [[...PUSH, "--insecure=yes"], /^error: flag --insecure takes true or false$/m],
        [[...PUSH, "--bogus=hunter2"], /^error: unknown flag --bogus$/m],
        [[...PUSH, "-x"], /^error: unknown flag -x$/m],
        [[...PUSH, "stray"], /^error: unexpected argument "stray"$/m],
        [[...PUSH, "--", "x"], /^error: unexpected argument "--"$/m],
        [["pull", "--url", "oci://127.0.0.1:1/x"], /^error: missing required flag --output-dir$/m],
        [["build", "--path", ".", "--output=yaml"], /^error: --output supports only "json"$/m],
    ];
    for (const [args, message] of usage) {
        test(`${args.join(" ")} → exit 2`, async () => {
            const r = await cli(args);
            assert.equal(r.code, 2, r.err);
            assert.match(r.err, message);
            assert.match(r.err, new RegExp(`Run 'artifact ${args[0]} --help' for usage\\.`));
            assert.ok(!r.err.includes("hunter2"), "a flag's value is never echoed");
            assert.equal(r.out, "");
        });
    }

    test("-h and --help anywhere print the command's help and exit 0", async () => {
        for (const args of [["push", "-h"], ["push", "--url", "oci://x/y", "--help"]]) {
            const r = await cli(args);
            assert.equal(r.code, 0, r.err);
            assert.match(r.out, /^Build the artifact and push it/);
            assert.match(r.out, /--insecure, --insecure-registry/);
        }
    });

    test("no command: usage on stderr, exit 2; an unknown command, exit 2", async () => {
        assert.deepEqual(await cli([]).then((r) => [r.code, /^Usage: artifact/.test(r.err)]), [2, true]);
        assert.deepEqual(await cli(["frobnicate"]).then((r) => [r.code, r.err]), [2, `error: unknown command "frobnicate"; run 'artifact --help'\n`]);
    });

    test("--flag=value, boolean --flag=false and the alias reach the command like their long forms", async () => {
        // The URL is parsed before anything is read or sent: its error shows the flags were taken.
        const r = await cli(["push", "--path=.", "--url=oci://127.0.0.1:1/Bad", "--tag=v1", "--insecure-registry=false", "--force=true"]);
        assert.equal(r.code, 2, r.err);
        assert.match(r.err, /^error: invalid OCI URL "oci:\/\/127\.0\.0\.1:1\/Bad": repository must be lower case/);
    });
});
