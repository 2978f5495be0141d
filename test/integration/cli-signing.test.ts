/**
 * `artifact push --sign-key` and `artifact verify` against a real registry and the real cosign:
 * what the CLI signs, `cosign verify --key` accepts; our `verify` and cosign agree when the key is
 * another one and when the tag was moved to unsigned content; keys of both kinds (openssl
 * PKCS#8, and `cosign generate-key-pair` with its password in an environment variable); usage
 * mistakes exit 2 and never print the key or the password.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import { repoRoot, samplePoliciesDir } from "../harness/paths";
import { run, type RunResult } from "../harness/processes";
import { startRegistry, type RegistryHandle } from "../harness/registry";
import { COSIGN_VERIFY_OFFLINE_FLAGS, cosignRegistryFlags, ensureCosign, type Cosign } from "../support/cosign";
import { changedSampleCopy, tempDir } from "../support/registry-artifact";

const cliPath = path.join(repoRoot, "build", "cli", "artifact.js");
const PASSWORD = "cli-sign-pass-7%Kq";

describe("artifact CLI: signing and verification agree with cosign", () => {
    let reg: RegistryHandle;
    let cosign: Cosign;
    let changedDir: string;
    const tmp = tempDir("cli-signing");
    const dockerConfig = path.join(tmp, "docker-empty");
    const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> =>
        run(process.execPath, [cliPath, ...args], { env: { ...process.env, DOCKER_CONFIG: dockerConfig, ...env }, timeoutMs: 60_000 });
    const keys = { ours: { key: "", pub: "" }, other: { key: "", pub: "" }, cosign: { key: "", pub: "" } };

    before(async () => {
        fs.mkdirSync(dockerConfig);
        [reg, cosign] = await Promise.all([startRegistry({ mode: "anonymous" }), ensureCosign()]);
        changedDir = changedSampleCopy();
        for (const name of ["ours", "other"] as const) {
            const key = path.join(tmp, `${name}.key`);
            const pub = path.join(tmp, `${name}.pub`);
            assert.equal((await run("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key])).code, 0);
            assert.equal((await run("openssl", ["pkey", "-in", key, "-pubout", "-out", pub])).code, 0);
            keys[name] = { key, pub };
        }
        const generated = await cosign.run(["generate-key-pair", "--output-key-prefix", path.join(tmp, "cosign")], { COSIGN_PASSWORD: PASSWORD });
        assert.equal(generated.code, 0, generated.stderr);
        keys.cosign = { key: path.join(tmp, "cosign.key"), pub: path.join(tmp, "cosign.pub") };
    });
    after(async () => {
        await reg?.stop();
        cosign?.cleanup();
        if (changedDir) fs.rmSync(changedDir, { recursive: true, force: true });
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    const cosignVerify = (repo: string, pub: string) =>
        cosign.run(["verify", "--key", pub, ...COSIGN_VERIFY_OFFLINE_FLAGS, ...cosignRegistryFlags(reg), `${reg.host}/${repo}:v1`]);
    const verify = (repo: string, pub: string) => cli(["verify", "--url", reg.url(repo), "--tag", "v1", "--key", pub, "--output", "json"]);

    it("push --sign-key: cosign verify accepts it, and so does artifact verify; another key is refused by both", async () => {
        const pushed = await cli(["push", "--path", samplePoliciesDir, "--url", reg.url("signed"), "--tag", "v1", "--sign-key", keys.ours.key, "--output", "json"]);
        assert.equal(pushed.code, 0, pushed.stderr);
        const out = JSON.parse(pushed.stdout);
        assert.match(out.signature.tag, /^sha256-[0-9a-f]{64}\.sig$/);
        assert.equal(out.signature.tag, `${out.digest.replace(":", "-")}.sig`);

        assert.equal((await cosignVerify("signed", keys.ours.pub)).code, 0);
        const ours = await verify("signed", keys.ours.pub);
        assert.equal(ours.code, 0, ours.stderr);
        assert.deepEqual([JSON.parse(ours.stdout).verified, JSON.parse(ours.stdout).digest], [true, out.digest]);

        const cosignOther = await cosignVerify("signed", keys.other.pub);
        assert.notEqual(cosignOther.code, 0);
        assert.match(cosignOther.stderr, /no matching signatures/);
        const other = await verify("signed", keys.other.pub);
        assert.equal(other.code, 1);
        assert.equal(JSON.parse(other.stdout).status, "other-key");
    });

    it("the tag moved to content nobody signed: both refuse", async () => {
        assert.equal((await cli(["push", "--path", samplePoliciesDir, "--url", reg.url("moved"), "--tag", "v1", "--sign-key", keys.ours.key])).code, 0);
        assert.equal((await verify("moved", keys.ours.pub)).code, 0, "signed first");
        const moved = await cli(["push", "--path", changedDir, "--url", reg.url("moved"), "--tag", "v1", "--force"]);
        assert.equal(moved.code, 0, moved.stderr);
        assert.notEqual((await cosignVerify("moved", keys.ours.pub)).code, 0);
        const ours = await verify("moved", keys.ours.pub);
        assert.equal(ours.code, 1);
        assert.equal(JSON.parse(ours.stdout).status, "unsigned");
    });

    it("a cosign generate-key-pair key, its password from --sign-key-password-env: cosign verifies; re-pushing signs nothing new", async () => {
        const args = ["push", "--path", samplePoliciesDir, "--url", reg.url("cosign-key"), "--tag", "v1", "--sign-key", keys.cosign.key, "--sign-key-password-env", "SIGN_PASS"];
        const first = await cli(args, { SIGN_PASS: PASSWORD });
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /✔ signed by sha256:[0-9a-f]{16}/);
        assert.equal((await cosignVerify("cosign-key", keys.cosign.pub)).code, 0);
        const again = await cli(args, { SIGN_PASS: PASSWORD });
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stdout, /✔ already signed by/);
        assert.ok(!first.stdout.includes(PASSWORD) && !first.stderr.includes(PASSWORD));
    });

    it("usage mistakes exit 2 before anything is pushed, naming the flag and never the key or the password", async () => {
        const keyText = fs.readFileSync(keys.cosign.key, "utf8");
        const body = keyText.split("\n")[1];
        const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
            [["--sign-key", keys.cosign.key], {}, /--sign-key .*cosign\.key: .*no password was given; pass the password's variable with --sign-key-password-env VAR/],
            [["--sign-key", keys.cosign.key, "--sign-key-password-env", "SIGN_PASS"], { SIGN_PASS: "wrong" }, /--sign-key .*: the password does not decrypt the cosign private key/],
            [["--sign-key", keys.cosign.key, "--sign-key-password-env", "UNSET_VAR"], {}, /--sign-key-password-env UNSET_VAR: the variable is not set/],
            [["--sign-key", path.join(tmp, "missing.key")], {}, /--sign-key .*missing\.key: cannot read it \(ENOENT\)/],
            [["--sign-key-password-env", "SIGN_PASS"], { SIGN_PASS: PASSWORD }, /--sign-key-password-env needs --sign-key/],
        ];
        for (const [flags, env, message] of cases) {
            const r = await cli(["push", "--path", samplePoliciesDir, "--url", reg.url("refused"), "--tag", "v1", ...flags], env);
            assert.equal(r.code, 2, `${flags.join(" ")}: ${r.stderr}`);
            assert.match(r.stderr, message);
            for (const secret of [PASSWORD, body]) assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), "no secret printed");
        }
        // The same read finds the tag where a push happened, so its absence below means something.
        const tagsOf = async (repo: string) => (await run("curl", ["-s", `http://${reg.host}/v2/${repo}/tags/list`])).stdout;
        assert.match(await tagsOf("signed"), /"v1"/);
        assert.doesNotMatch(await tagsOf("refused"), /"v1"/, "nothing was pushed");
        const noKey = await cli(["verify", "--url", reg.url("signed"), "--tag", "v1"]);
        assert.equal(noKey.code, 2);
        assert.match(noKey.stderr, /missing required flag --key/);
    });
});
