/**
 * The kind configuration, and the kind and local-registry scripts (lib/sh/kind-cluster.sh,
 * registry-container.sh, registry-connect.sh) run as their Commands run them, against fake `kind`
 * and `docker` commands that record every call, so no Docker is needed.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import {
    KIND_CLUSTER_COMMANDS, kindClusterEnvironment, localRegistryHostingData, REGISTRY_CONNECT_COMMAND, REGISTRY_CONTAINER_COMMANDS,
    registryConnectEnvironment, registryContainerEnvironment, renderKindConfig,
} from "../../lib/kind";
import { calls, fakeTool, runCommandLine, scriptFile } from "../support/scripts";

describe("kind config", () => {
    test("single control-plane node with the configured image", () => {
        const doc = yaml.load(renderKindConfig({ nodeImage: "kindest/node:v1.33.1", localRegistry: false })) as any;
        assert.equal(doc.kind, "Cluster");
        assert.equal(doc.apiVersion, "kind.x-k8s.io/v1alpha4");
        assert.deepEqual(doc.nodes, [{ role: "control-plane", image: "kindest/node:v1.33.1" }]);
        assert.equal(doc.containerdConfigPatches, undefined);
    });
    test("local registry turns on containerd's certs.d", () => {
        const doc = yaml.load(renderKindConfig({ nodeImage: "kindest/node:v1.34.0", localRegistry: true })) as any;
        assert.equal(doc.containerdConfigPatches.length, 1);
        assert.match(doc.containerdConfigPatches[0], /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\]\n\s+config_path = "\/etc\/containerd\/certs\.d"/);
    });
});

const KUBECONFIG = "apiVersion: v1\nkind: Config\n";

/**
 * Fake kind and docker. State in files: `clusters` (kind get clusters), `create-fails`, `nodes`
 * (kind get nodes), `running` (docker inspect's .State.Running; absent: no such container),
 * `network` (the container's kind network, default null), `published` (the registry port's
 * HostIp:HostPort, default 127.0.0.1:5001); what `kind create cluster` and
 * `docker exec -i` read on stdin goes to `stdin.create` and `stdin.<node>`.
 */
function fakes(state: { clusters?: string[]; createFails?: boolean; nodes?: string[]; nodesFail?: boolean; running?: string; network?: string; published?: string } = {}): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kind-scripts-"));
    const write = (name: string, text: string) => fs.writeFileSync(path.join(dir, name), text);
    if (state.clusters) write("clusters", state.clusters.map((c) => `${c}\n`).join(""));
    if (state.nodes) write("nodes", state.nodes.map((n) => `${n}\n`).join(""));
    if (state.running !== undefined) write("running", `${state.running}\n`);
    write("network", `${state.network ?? "null"}\n`);
    write("published", `${state.published ?? "127.0.0.1:5001"}\n`);
    fakeTool(dir, "kind", `case "$1 $2" in
  "get clusters") cat "$d/clusters" 2>/dev/null ;;
  "create cluster") cat > "$d/stdin.create"; echo "Creating cluster \\"$4\\" ..." >&2; ${state.createFails ? "exit 1" : ":"} ;;
  "get kubeconfig") printf '${KUBECONFIG.replace(/\n/g, "\\n")}' ;;
  "get nodes") ${state.nodesFail ? 'echo "ERROR: no nodes found" >&2; exit 1' : 'cat "$d/nodes"'} ;;
esac`);
    fakeTool(dir, "docker", `case "$1 $2 $3" in
  "inspect -f {{.State.Running}}") [ -f "$d/running" ] || { echo "Error: No such object: $4" >&2; exit 1; }; cat "$d/running" ;;
  "inspect -f {{json .NetworkSettings.Networks.kind}}") cat "$d/network" ;;
  "inspect -f {{range (index .HostConfig.PortBindings"*) cat "$d/published" ;;
  "start kind-registry ") echo kind-registry ;;
  "run -d --restart=always") echo 0123abcd ;;
  "exec -i "*) cat > "$d/stdin.$3" ;;
esac`);
    return dir;
}

function run(dir: string, command: string, environment: Record<string, string>, stdin?: string) {
    const r = runCommandLine(command, environment, { binDir: dir, stdin });
    const read = (name: string) => (fs.existsSync(path.join(dir, name)) ? fs.readFileSync(path.join(dir, name), "utf8") : undefined);
    const result = { ...r, calls: calls(dir), createStdin: read("stdin.create"), read };
    return result;
}

describe("kind cluster script", () => {
    const config = renderKindConfig({ nodeImage: "kindest/node:v1.34.0", localRegistry: true });

    test("create makes the cluster from the config on stdin and prints only the kubeconfig on stdout", () => {
        const dir = fakes();
        const r = run(dir, KIND_CLUSTER_COMMANDS.create, kindClusterEnvironment("policy-stack-dev"), config);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.calls, [
            "kind [get] [clusters]",
            "kind [create] [cluster] [--name] [policy-stack-dev] [--config=-] [--wait] [120s]",
            "kind [get] [kubeconfig] [--name] [policy-stack-dev]",
        ]);
        assert.equal(r.createStdin, config, "kind reads the configuration on stdin");
        assert.equal(r.stdout, KUBECONFIG);
        assert.match(r.stderr, /Creating cluster "policy-stack-dev"/, "kind's progress goes to stderr");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("create adopts a cluster of exactly that name (a retried up after a partial failure)", () => {
        const dir = fakes({ clusters: ["policy-stack-dev-2", "policy-stack-dev"] });
        const r = run(dir, KIND_CLUSTER_COMMANDS.create, kindClusterEnvironment("policy-stack-dev", 60), config);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.calls, ["kind [get] [clusters]", "kind [get] [kubeconfig] [--name] [policy-stack-dev]"]);
        assert.equal(r.stdout, KUBECONFIG);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("a cluster whose name merely matches as a pattern is not adopted", () => {
        const dir = fakes({ clusters: ["policy-stack-dev-2", "aXb"] });
        const r = run(dir, KIND_CLUSTER_COMMANDS.create, kindClusterEnvironment("a.b", 60), config);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.calls[1], "kind [create] [cluster] [--name] [a.b] [--config=-] [--wait] [60s]");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("a failed create fails the command and prints no kubeconfig", () => {
        const dir = fakes({ createFails: true });
        const r = run(dir, KIND_CLUSTER_COMMANDS.create, kindClusterEnvironment("policy-stack-dev"), config);
        assert.notEqual(r.status, 0);
        assert.equal(r.stdout, "");
        assert.equal(r.calls.some((c) => c.includes("kubeconfig")), false);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("delete deletes the cluster", () => {
        const dir = fakes();
        const r = run(dir, KIND_CLUSTER_COMMANDS.delete, kindClusterEnvironment("policy-stack-dev"));
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.calls, ["kind [delete] [cluster] [--name] [policy-stack-dev]"]);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("a name is one argument whatever it holds: nothing is interpolated into shell text", () => {
        const dir = fakes();
        const hostile = `x'; touch "${dir}/pwned"; echo '$(id)`;
        const r = run(dir, KIND_CLUSTER_COMMANDS.delete, kindClusterEnvironment(hostile));
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.calls, [`kind [delete] [cluster] [--name] [${hostile}]`]);
        assert.equal(fs.existsSync(path.join(dir, "pwned")), false);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("the Command lines are short and constant; the script and its parameters are the environment", () => {
        assert.deepEqual(KIND_CLUSTER_COMMANDS, {
            create: `sh -c "$POLICY_STACK_SCRIPT" kind-cluster.sh create`,
            delete: `sh -c "$POLICY_STACK_SCRIPT" kind-cluster.sh delete`,
        });
        assert.deepEqual(kindClusterEnvironment("policy-stack-dev"), {
            POLICY_STACK_SCRIPT: scriptFile("kind-cluster.sh"),
            KIND_CLUSTER: "policy-stack-dev",
            KIND_WAIT_SECONDS: "120",
        });
    });
});

describe("local registry recipe", () => {
    const PORT_INSPECT = 'docker [inspect] [-f] [{{range (index .HostConfig.PortBindings "5000/tcp")}}{{.HostIp}}:{{.HostPort}}{{end}}] [kind-registry]';
    const o = { containerName: "kind-registry", hostPort: 5001, image: "registry:2", clusterName: "policy-stack-dev" };

    test("the container is started unless it runs, published on loopback only", () => {
        let dir = fakes();
        let r = run(dir, REGISTRY_CONTAINER_COMMANDS.create, registryContainerEnvironment(o));
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.calls, [
            "docker [inspect] [-f] [{{.State.Running}}] [kind-registry]",
            "docker [run] [-d] [--restart=always] [-p] [127.0.0.1:5001:5000] [--network] [bridge] [--name] [kind-registry] [registry:2]",
        ]);
        assert.equal(r.stdout, "", "docker's output goes to stderr");
        fs.rmSync(dir, { recursive: true, force: true });
        dir = fakes({ running: "true" });
        r = run(dir, REGISTRY_CONTAINER_COMMANDS.create, registryContainerEnvironment(o));
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.calls, ["docker [inspect] [-f] [{{.State.Running}}] [kind-registry]", PORT_INSPECT]);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("a stopped container is started again, not run anew (its name is taken and it holds the pushed artifacts)", () => {
        const dir = fakes({ running: "false" });
        const r = run(dir, REGISTRY_CONTAINER_COMMANDS.create, registryContainerEnvironment(o));
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.calls, ["docker [inspect] [-f] [{{.State.Running}}] [kind-registry]", PORT_INSPECT, "docker [start] [kind-registry]"]);
        assert.equal(r.stdout, "", "docker's output goes to stderr");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("a container of that name on another port is refused, naming the key and both fixes, and left alone", () => {
        for (const running of ["true", "false"]) {
            const dir = fakes({ running, published: "0.0.0.0:5000" });
            const r = run(dir, REGISTRY_CONTAINER_COMMANDS.create, registryContainerEnvironment(o));
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /the container kind-registry exists and publishes the registry on '0\.0\.0\.0:5000', not on 127\.0\.0\.1:5001 \(policy-stack:localRegistryPort\)/);
            assert.match(r.stderr, /docker rm -f kind-registry/);
            assert.deepEqual(r.calls, ["docker [inspect] [-f] [{{.State.Running}}] [kind-registry]", PORT_INSPECT], "nothing is started or removed");
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("delete removes the container", () => {
        const dir = fakes({ running: "true" });
        const r = run(dir, REGISTRY_CONTAINER_COMMANDS.delete, registryContainerEnvironment(o));
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.calls, ["docker [rm] [-f] [kind-registry]"]);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("each node's containerd maps localhost:<port> to the container, which joins the kind network", () => {
        const dir = fakes({ nodes: ["policy-stack-dev-control-plane", "policy-stack-dev-worker"] });
        const r = run(dir, REGISTRY_CONNECT_COMMAND, registryConnectEnvironment(o));
        assert.equal(r.status, 0, r.stderr);
        const hostsDir = "/etc/containerd/certs.d/localhost:5001";
        assert.deepEqual(r.calls, [
            "kind [get] [nodes] [--name] [policy-stack-dev]",
            ...["policy-stack-dev-control-plane", "policy-stack-dev-worker"].flatMap((node) => [
                `docker [exec] [${node}] [mkdir] [-p] [${hostsDir}]`,
                `docker [exec] [-i] [${node}] [cp] [/dev/stdin] [${hostsDir}/hosts.toml]`,
            ]),
            "docker [inspect] [-f] [{{json .NetworkSettings.Networks.kind}}] [kind-registry]",
            "docker [network] [connect] [kind] [kind-registry]",
        ]);
        for (const node of ["policy-stack-dev-control-plane", "policy-stack-dev-worker"]) {
            assert.equal(r.read(`stdin.${node}`), `[host."http://kind-registry:5000"]\n`);
        }
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("a container already on the kind network is not connected again", () => {
        const dir = fakes({ nodes: ["n1"], network: `{"NetworkID":"abc"}` });
        const r = run(dir, REGISTRY_CONNECT_COMMAND, registryConnectEnvironment(o));
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.calls.some((c) => c.startsWith("docker [network]")), false, r.calls.join("\n"));
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("when the nodes cannot be listed it fails before touching anything", () => {
        const dir = fakes({ nodesFail: true });
        const r = run(dir, REGISTRY_CONNECT_COMMAND, registryConnectEnvironment(o));
        assert.notEqual(r.status, 0);
        assert.deepEqual(r.calls, ["kind [get] [nodes] [--name] [policy-stack-dev]"]);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("the Command lines are short and constant; the script and its parameters are the environment", () => {
        assert.deepEqual(REGISTRY_CONTAINER_COMMANDS, {
            create: `sh -c "$POLICY_STACK_SCRIPT" registry-container.sh create`,
            delete: `sh -c "$POLICY_STACK_SCRIPT" registry-container.sh delete`,
        });
        assert.equal(REGISTRY_CONNECT_COMMAND, `sh -c "$POLICY_STACK_SCRIPT" registry-connect.sh`);
        assert.deepEqual(registryContainerEnvironment(o), {
            POLICY_STACK_SCRIPT: scriptFile("registry-container.sh"),
            REGISTRY_CONTAINER: "kind-registry",
            REGISTRY_HOST_PORT: "5001",
            REGISTRY_IMAGE: "registry:2",
        });
        assert.deepEqual(registryConnectEnvironment(o), {
            POLICY_STACK_SCRIPT: scriptFile("registry-connect.sh"),
            KIND_CLUSTER: "policy-stack-dev",
            REGISTRY_CONTAINER: "kind-registry",
            REGISTRY_HOST_PORT: "5001",
            CONTAINERD_CERTS_DIR: "/etc/containerd/certs.d",
        });
    });

    test("local-registry-hosting ConfigMap", () => {
        const data = localRegistryHostingData(5001);
        const doc = yaml.load(data["localRegistryHosting.v1"]) as any;
        assert.equal(doc.host, "localhost:5001");
        assert.match(doc.help, /kind\.sigs\.k8s\.io/);
    });
});
