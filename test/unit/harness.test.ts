/**
 * The shared harness (test/harness/) where it needs no registry, cluster or tool build: the
 * process runner, the tools reader, and the bench report written apart from measuring.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { formatReport, readmeWithTable, writeResults, BENCH_README } from "../../bench/report";
import { repoRoot } from "../harness/paths";
import { kubeconfigOnceCreated } from "../harness/kube";
import { checkOk, run, runOk } from "../harness/processes";
import type { RegistryHandle } from "../harness/registry";
import { seedStack } from "../harness/stack";
import { calls, fakeTool } from "../support/scripts";
import { E2E_TOOLS, findTool, locateToolChain, readToolsEnv, TOOL_OF_BINARY } from "../harness/tools";
import { E2eWorkspace } from "../harness/workspace";

describe("harness process runner", () => {
    it("returns the exit code and both streams, and never throws on a failure", async () => {
        const r = await run("sh", ["-c", "echo out; echo err >&2; exit 3"]);
        assert.deepEqual([r.code, r.stdout, r.stderr, r.timedOut], [3, "out\n", "err\n", false]);
        assert.ok(r.ms > 0);
        assert.throws(() => checkOk(r, "the failing step"), /the failing step failed \(exit 3\):\n[\s\S]*out\n\nerr/);
        await assert.rejects(runOk("sh", ["-c", "exit 4"]), /sh -c exit 4 failed \(exit 4\)/);
    });

    it("feeds stdin when given input, and /dev/null otherwise", async () => {
        assert.equal((await run("cat", [], { input: "piped" })).stdout, "piped");
        assert.equal((await run("cat", [])).stdout, "");
    });

    it("kills a command at its timeout, its whole process group when asked", async () => {
        const r = await run("sh", ["-c", "sleep 30 & wait"], { timeoutMs: 200, processGroup: true });
        assert.equal(r.timedOut, true);
        assert.equal(r.code, 128);
        assert.match(r.stderr, /\[timed out after \d+ ms\]/);
        assert.ok(r.ms < 10_000, `${r.ms} ms`);
    });

    it("reports a command that cannot start as exit 127 with the reason", async () => {
        const r = await run(path.join(os.tmpdir(), "no-such-command-here"), []);
        assert.equal(r.code, 127);
        assert.equal(r.spawnError?.code, "ENOENT");
    });

    it("logs the command line, both streams and the exit line to a file", async () => {
        const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "harness-log-")), "cmd.log");
        try {
            const r = await run("sh", ["-c", "echo hello"], { log, cwd: os.tmpdir() });
            assert.equal(r.log, log);
            assert.match(fs.readFileSync(log, "utf8"), new RegExp(`^\\$ sh -c echo hello\\n  \\(cwd ${os.tmpdir()}\\)\\nhello\\n\\n\\[exit 0 after \\d+ ms\\]\\n$`));
        } finally {
            fs.rmSync(path.dirname(log), { recursive: true, force: true });
        }
    });
});

describe("harness tools reader", () => {
    it("reads the pins of scripts/tools.env, including every version findTool needs", () => {
        const pins = readToolsEnv();
        assert.match(pins.FLUX_VERSION ?? "", /^v\d+\.\d+\.\d+$/);
        assert.match(pins.FLUX_INSTALL_SHA256 ?? "", /^[0-9a-f]{64}$/);
        for (const { versionKey } of Object.values(TOOL_OF_BINARY)) assert.ok(pins[versionKey], `${versionKey} is pinned in scripts/tools.env`);
    });

    it("finds a binary on PATH when it is neither in a bin dir nor a pinned tool", () => {
        const sh = findTool("sh", path.join(os.tmpdir(), "no-such-dir"));
        assert.ok(sh && path.isAbsolute(sh) && path.basename(sh) === "sh", String(sh));
        assert.equal(findTool("no-such-binary-anywhere"), undefined);
    });

    it("names every missing tool of the end-to-end chain at once", () => {
        const empty = fs.mkdtempSync(path.join(os.tmpdir(), "harness-tools-"));
        try {
            assert.throws(() => locateToolChain(empty), (e: Error) => {
                for (const tool of E2E_TOOLS.filter((t) => t !== "pulumi-resource-command")) assert.ok(e.message.includes(`  - ${tool}\n`) || e.message.endsWith(`  - ${tool}`), `${tool} in:\n${e.message}`);
                // The command provider's stand-in ships with the harness.
                assert.ok(!e.message.includes("pulumi-resource-command"), e.message);
                return true;
            });
        } finally {
            fs.rmSync(empty, { recursive: true, force: true });
        }
    });
});

describe("build-tools.sh --bin-dir (POLICY_STACK_BUILD_TOOLS=0)", () => {
    it("links the tools already built, naming any built from an earlier recipe, and builds nothing: go is asked only for its environment", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bin-dir-"));
        try {
            const toolsDir = path.join(dir, "tools");
            const etcdVersion = readToolsEnv().ETCD_VERSION;
            const etcd = path.join(toolsDir, "etcd", etcdVersion, "bin", "etcd");
            fs.mkdirSync(path.dirname(etcd), { recursive: true });
            fs.writeFileSync(etcd, "#!/bin/sh\n", { mode: 0o755 });
            fs.writeFileSync(path.join(toolsDir, "etcd", etcdVersion, "stamp"), `version=${etcdVersion}\n`);
            const fakeBin = path.join(dir, "fake-bin");
            fs.mkdirSync(fakeBin);
            fakeTool(fakeBin, "go", `case "$1 $2" in
  "env GOVERSION") echo go1.0.0 ;;
  "env GOOS") echo linux ;;
  "env GOARCH") echo amd64 ;;
  "env "*) echo "$d/$2" ;;
  *) echo "go $* must not run" >&2; exit 1 ;;
esac`);
            const r = spawnSync("bash", [path.join(repoRoot, "scripts", "build-tools.sh"), "--bin-dir"], {
                encoding: "utf8", env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}`, POLICY_STACK_TOOLS_DIR: toolsDir },
            });
            assert.equal(r.status, 0, r.stderr);
            const binDir = r.stdout.trim().split("\n").pop() ?? "";
            assert.equal(path.dirname(binDir), toolsDir);
            assert.match(path.basename(binDir), /^bin-[0-9a-f]{12}$/);
            assert.equal(fs.readlinkSync(path.join(binDir, "etcd")), etcd);
            assert.deepEqual(fs.readdirSync(binDir), ["etcd"], "only what was built is linked");
            // The fake stamp records no fingerprint: an earlier recipe's build, linked with a warning.
            assert.match(r.stderr, /etcd: built from an earlier recipe or dependency set, linked as it is \(scripts\/build-tools\.sh etcd rebuilds it\)/);
            assert.equal(r.stderr.match(/built from an earlier recipe/g)?.length, 1, r.stderr);
            const goCalls = calls(fakeBin);
            assert.ok(goCalls.length > 0, "the fake go was on PATH and was asked");
            assert.deepEqual(goCalls.filter((c) => !c.startsWith("go [env]")), [], "go ran for nothing but its environment");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("end-to-end workspace with stand-in tools", () => {
    /** Every tool of the chain as one script that records its argv and answers what the harness parses. */
    function fakeToolChain(dir: string): string {
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(bin, "fake"), [
            "#!/bin/sh",
            'printf \'%s %s\\n\' "$(basename "$0")" "$*" >> "$FAKE_TOOL_LOG"',
            'case "$(basename "$0") $*" in',
            '  "kwokctl get clusters") echo policy-stack-e2e ;;',
            '  "kwokctl get kubeconfig"*) echo "apiVersion: v1" ;;',
            '  kubectl*"get clusterpolicies.kyverno.io -o json") echo \'{"items":[{"metadata":{"name":"a"}}]}\' ;;',
            '  kubectl*"get clusterpolicies.kyverno.io") printf \'NAME   READY\\na      True\\n\' ;;',
            "esac",
            "",
        ].join("\n"), { mode: 0o755 });
        for (const tool of E2E_TOOLS) if (tool !== "pulumi-resource-command") fs.symlinkSync("fake", path.join(bin, tool));
        return bin;
    }

    it("seeds the stack's config through pulumi and reads the cluster through kubectl, one log per command", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "harness-ws-"));
        const calls = path.join(dir, "calls.log");
        fs.writeFileSync(calls, "");
        process.env.FAKE_TOOL_LOG = calls;
        const ws = new E2eWorkspace(locateToolChain(fakeToolChain(dir)));
        try {
            const registry = { url: (r: string) => `oci://127.0.0.1:1/${r}`, username: "u", password: "p", caFile: "/ca.crt" } as RegistryHandle;
            const fixtures = { flux: { path: "/install.yaml" }, kyverno: { dir: "/chart", version: "3.9.1" } } as Parameters<typeof seedStack>[1]["fixtures"];
            const { policiesDir } = await seedStack(ws, { stack: "e2e", registry, repository: "kyverno-policies", fixtures, reconcileTimeoutS: 180 });
            assert.deepEqual(fs.readdirSync(policiesDir).sort(), fs.readdirSync(path.join(repoRoot, "policies")).sort());
            fs.appendFileSync(ws.shimLog, JSON.stringify({ argv: ["create", "cluster"], exit: 0 }) + "\n");
            const kubeconfig = await kubeconfigOnceCreated(ws, "policy-stack-e2e");
            const kube = ws.kubectl(kubeconfig!);
            assert.deepEqual(await kube.table(["clusterpolicies.kyverno.io"]), [{ NAME: "a", READY: "True" }]);
            assert.deepEqual(await kube.getJson(["clusterpolicies.kyverno.io"]), { items: [{ metadata: { name: "a" } }] });

            const lines = fs.readFileSync(calls, "utf8").split(ws.root).join("<ws>").trim().split("\n");
            assert.deepEqual(lines, [
                "pulumi stack init e2e --non-interactive",
                "pulumi config set clusterMode kind --non-interactive",
                "pulumi config set registryMode external --non-interactive",
                "pulumi config set registryUrl oci://127.0.0.1:1/kyverno-policies --non-interactive",
                "pulumi config set registryUsername u --non-interactive",
                "pulumi config set --secret registryPassword p --non-interactive",
                "pulumi config set registryCaFile /ca.crt --non-interactive",
                "pulumi config set registryInsecure false --non-interactive",
                "pulumi config set fluxInstallManifest /install.yaml --non-interactive",
                "pulumi config set kyvernoChart /chart --non-interactive",
                "pulumi config set kyvernoChartVersion 3.9.1 --non-interactive",
                "pulumi config set policiesPath <ws>/policies --non-interactive",
                "pulumi config set reconcileTimeout 180s --non-interactive",
                "kwokctl get clusters",
                "kwokctl get kubeconfig --name policy-stack-e2e",
                "kubectl --kubeconfig <ws>/kubeconfig-policy-stack-e2e get clusterpolicies.kyverno.io",
                "kubectl --kubeconfig <ws>/kubeconfig-policy-stack-e2e get clusterpolicies.kyverno.io -o json",
            ]);
            const logs = fs.readdirSync(ws.logDir).filter((f) => f.endsWith(".log"));
            assert.equal(logs.length, lines.length);
            assert.match(fs.readFileSync(path.join(ws.logDir, "001-pulumi-stack-init.log"), "utf8"), /^\$ \S+\/pulumi stack init e2e --non-interactive\n/);
            assert.ok(logs.includes("016-kubectl-get-clusterpolicies.kyverno.io.log"), logs.join(", "));
        } finally {
            delete process.env.FAKE_TOOL_LOG;
            ws.remove();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("bench report (written apart from measuring)", () => {
    const latest = path.join(repoRoot, "bench", "results", "latest.json");

    it("the committed bench/README.md table is the report of the committed results/latest.json", () => {
        const results = JSON.parse(fs.readFileSync(latest, "utf8"));
        const readme = fs.readFileSync(BENCH_README, "utf8");
        assert.equal(readmeWithTable(readme, formatReport(results)), readme);
    });

    it("writes the results file byte for byte as committed", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-report-"));
        try {
            writeResults(JSON.parse(fs.readFileSync(latest, "utf8")), path.join(dir, "latest.json"));
            assert.equal(fs.readFileSync(path.join(dir, "latest.json"), "utf8"), fs.readFileSync(latest, "utf8"));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("leaves a README without the marker as it is", () => {
        assert.equal(readmeWithTable("# Benchmarks\n", "\n## Benchmarks — x\n"), "# Benchmarks\n");
    });
});
