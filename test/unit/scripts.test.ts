/**
 * How the program finds and runs its shell scripts (lib/scripts.ts): from the TypeScript sources
 * and from the compiled output alike, each Command line short and constant.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { detachedScriptCommand, findScriptsDir, readScript, scriptCommand, wholeSeconds } from "../../lib/scripts";
import { FLUX_WAIT_COMMAND, fluxWaitEnvironment } from "../../lib/fluxWait";
import { KIND_CLUSTER_COMMANDS, kindClusterEnvironment, REGISTRY_CONNECT_COMMAND, REGISTRY_CONTAINER_COMMANDS, registryConnectEnvironment, registryContainerEnvironment } from "../../lib/kind";
import { ORPHAN_REAPER_COMMAND, orphanReaperEnvironment, WEBHOOK_CLEANUP_COMMAND, webhookCleanupEnvironment } from "../../lib/kyverno";
import { POLICY_STATUS_COMMAND, policyStatusEnvironment } from "../../lib/policyStatus";
import { repoRoot } from "../harness/paths";
import { scriptFile } from "../support/scripts";

const SCRIPTS = path.join(repoRoot, "lib", "sh");

describe("finding lib/sh", () => {
    test("from the sources' lib/ and from the compiled build/lib/: the same directory", () => {
        assert.equal(findScriptsDir(path.join(repoRoot, "lib")), SCRIPTS);
        assert.equal(path.resolve(findScriptsDir(path.join(repoRoot, "build", "lib"))), SCRIPTS);
    });

    test("where the package is installed for another program, the same layout works", () => {
        const consumer = fs.mkdtempSync(path.join(os.tmpdir(), "consumer-"));
        const pkg = path.join(consumer, "node_modules", "policy-stack");
        fs.mkdirSync(path.join(pkg, "build", "lib"), { recursive: true });
        fs.cpSync(SCRIPTS, path.join(pkg, "lib", "sh"), { recursive: true });
        assert.equal(findScriptsDir(path.join(pkg, "lib")), path.join(pkg, "lib", "sh"));
        assert.equal(path.resolve(findScriptsDir(path.join(pkg, "build", "lib"))), path.join(pkg, "lib", "sh"));
        fs.rmSync(consumer, { recursive: true, force: true });
    });

    test("missing scripts fail naming where they were looked for", () => {
        const empty = fs.mkdtempSync(path.join(os.tmpdir(), "no-scripts-"));
        assert.throws(() => findScriptsDir(path.join(empty, "build", "lib")), (e: Error) =>
            e.message.includes("lib/sh/*.sh") && e.message.includes(path.join(empty, "build", "lib", "sh")) && e.message.includes(path.join(empty, "lib", "sh")));
        fs.rmSync(empty, { recursive: true, force: true });
    });

    test("readScript gives the file's text", () => {
        assert.equal(readScript("flux-wait.sh"), scriptFile("flux-wait.sh"));
    });
});

describe("Command lines", () => {
    test("sh -c runs the script in POLICY_STACK_SCRIPT, its file name as $0", () => {
        assert.equal(scriptCommand("kind-cluster.sh", "create"), `sh -c "$POLICY_STACK_SCRIPT" kind-cluster.sh create`);
        assert.equal(detachedScriptCommand("x.sh"), `nohup sh -c "$POLICY_STACK_SCRIPT" x.sh </dev/null >/dev/null 2>&1 &`);
    });

    test("only plain words: values never go into a command line", () => {
        assert.throws(() => scriptCommand("x.sh", "a b"), /not a plain word/);
        assert.throws(() => scriptCommand("x.sh", "$(id)"), /not a plain word/);
        assert.throws(() => scriptCommand("'x.sh"), /not a plain word/);
    });

    test("whole seconds, at least one", () => {
        assert.deepEqual([0, 0.5, 1, 59.9, 300].map(wholeSeconds), ["1", "1", "1", "59", "300"]);
    });

    test("every script in lib/sh is run by a Command, with a constant short line", () => {
        const commands = [FLUX_WAIT_COMMAND, KIND_CLUSTER_COMMANDS.create, KIND_CLUSTER_COMMANDS.delete, REGISTRY_CONTAINER_COMMANDS.create,
            REGISTRY_CONTAINER_COMMANDS.delete, REGISTRY_CONNECT_COMMAND, ORPHAN_REAPER_COMMAND, WEBHOOK_CLEANUP_COMMAND, POLICY_STATUS_COMMAND];
        for (const c of commands) assert.ok(c.length <= 90, c);
        const o = { containerName: "r", hostPort: 1, image: "i", clusterName: "c" };
        const texts = [
            fluxWaitEnvironment({ namespace: "n", name: "n", revision: "r", timeoutSeconds: 1 }),
            kindClusterEnvironment("c"),
            registryContainerEnvironment(o),
            registryConnectEnvironment(o),
            orphanReaperEnvironment({ release: "r", namespace: "n", timeoutSeconds: 1 }),
            webhookCleanupEnvironment({ namespace: "n", timeoutSeconds: 1 }),
            policyStatusEnvironment({ policies: [], listFailing: false }),
        ].map((env) => env.POLICY_STACK_SCRIPT);
        for (const file of fs.readdirSync(SCRIPTS)) {
            assert.match(file, /\.sh$/);
            assert.ok(texts.some((t) => t.includes(scriptFile(file))), `${file} is run by a Command`);
            assert.ok(file === "kubectl.sh" || commands.some((c) => c.includes(` ${file}`)), `${file} has a Command line`);
        }
    });
});
