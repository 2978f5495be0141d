import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as yaml from "js-yaml";
import { kindCommands, localRegistryHostingData, registryConnectCommand, registryContainerCommands, renderKindConfig, shellQuote } from "../../lib/kind";

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

describe("kind command lines", () => {
    test("create reads the config from stdin, is idempotent and prints the kubeconfig", () => {
        const c = kindCommands("policy-stack-dev");
        assert.match(c.create, /kind get clusters 2>\/dev\/null \| grep -qx 'policy-stack-dev'/);
        assert.match(c.create, /kind create cluster --name 'policy-stack-dev' --config=- --wait 120s >&2/);
        assert.match(c.create.split("\n").pop()!, /^kind get kubeconfig --name 'policy-stack-dev'$/);
        assert.equal(c.delete, "kind delete cluster --name 'policy-stack-dev'");
    });
    test("names are shell-quoted", () => {
        assert.equal(shellQuote("a'b"), `'a'\\''b'`);
        assert.match(kindCommands("x'; rm -rf /").delete, /--name 'x'\\''; rm -rf \/'$/);
    });
});

describe("local registry recipe", () => {
    const o = { containerName: "kind-registry", hostPort: 5001, image: "registry:2", clusterName: "policy-stack-dev" };
    test("the container publishes on loopback only", () => {
        const c = registryContainerCommands(o);
        assert.match(c.create, /docker run -d --restart=always -p '127\.0\.0\.1:5001:5000' --network bridge --name 'kind-registry' 'registry:2'/);
        assert.equal(c.delete, "docker rm -f 'kind-registry'");
    });
    test("each node's containerd maps localhost:<port> to the container, which joins the kind network", () => {
        const c = registryConnectCommand(o);
        assert.match(c, /kind get nodes --name 'policy-stack-dev'/);
        assert.match(c, /mkdir -p '\/etc\/containerd\/certs\.d\/localhost:5001'/);
        assert.match(c, /\[host\."http:\/\/kind-registry:5000"\]/);
        assert.match(c, /docker network connect kind 'kind-registry'/);
    });
    test("local-registry-hosting ConfigMap", () => {
        const data = localRegistryHostingData(5001);
        const doc = yaml.load(data["localRegistryHosting.v1"]) as any;
        assert.equal(doc.host, "localhost:5001");
        assert.match(doc.help, /kind\.sigs\.k8s\.io/);
    });
});
