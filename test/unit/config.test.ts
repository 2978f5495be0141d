import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { ConfigError, ConfigReader, DEFAULTS, durationSeconds, isLoopbackHost, parseOciUrl, parseStackConfig, registryHost } from "../../lib/config";
import { parseCluster } from "../../lib/config/cluster";
import { parseFlux } from "../../lib/config/flux";
import { parseKyverno } from "../../lib/config/kyverno";
import { cfg, ctx, problemsOf } from "../support/stackConfig";

const external = { clusterMode: "existing", registryUrl: "oci://ghcr.io/acme/policies" };


describe("stack config defaults", () => {
    test("an empty dev stack is a kind cluster with the local registry, audit", () => {
        const c = parseStackConfig({}, ctx);
        assert.equal(c.cluster.mode, "kind");
        assert.equal(c.cluster.mode === "kind" && c.cluster.name, "policy-stack-dev");
        assert.equal(c.registry.mode, "local");
        assert.equal(c.registry.pushUrl, "oci://localhost:5001/kyverno-policies");
        assert.equal(c.registry.pullUrl, "oci://kind-registry:5000/kyverno-policies");
        assert.notEqual(c.registry.pushUrl, c.registry.pullUrl, "push and pull addresses are distinct");
        assert.equal(c.registry.insecure, true);
        assert.equal(c.enforcement, "audit");
        assert.equal(c.artifact.policiesPath, path.resolve("/project", "policies"));
        assert.equal(c.flux.installManifest, "https://github.com/fluxcd/flux2/releases/download/v2.9.4/install.yaml");
        assert.equal(c.kyverno.repository, "https://kyverno.github.io/kyverno/");
    });

    test("an existing cluster with a private registry", () => {
        const c = parseStackConfig(cfg({ ...external, registryUsername: "bot", registryPassword: "s3cret", enforcement: "enforce", kubeContext: "prod" }), ctx);
        assert.deepEqual(c.cluster, { mode: "existing", kubeconfig: undefined, context: "prod" });
        assert.equal(c.registry.mode, "external");
        assert.equal(c.registry.pullUrl, "oci://ghcr.io/acme/policies", "pull defaults to the push address");
        assert.equal(c.registry.insecure, false, "remote registries use TLS");
        assert.equal(c.enforcement, "enforce");
    });

    test("loopback registries default to plain HTTP; a local chart path and a local install.yaml resolve against the project", () => {
        const c = parseStackConfig(cfg({ registryMode: "external", registryUrl: "oci://127.0.0.1:5000/p", kyvernoChart: "./charts/kyverno", fluxInstallManifest: "vendor/install.yaml" }), ctx);
        assert.equal(c.registry.insecure, true);
        assert.equal(c.kyverno.chart, path.resolve("/project", "charts/kyverno"));
        assert.equal(c.kyverno.repository, undefined);
        assert.equal(c.flux.installManifest, path.resolve("/project", "vendor/install.yaml"));
    });

    test("a v-prefixed tag is accepted, as Flux accepts it", () => {
        assert.equal(parseStackConfig(cfg({ artifactTag: "v1.2.3", semverRange: "1.x" }), ctx).artifact.tag, "v1.2.3");
    });

    test("durations convert to seconds", () => {
        assert.equal(durationSeconds("5m"), 300);
        assert.equal(durationSeconds("1h30m"), 5400);
        assert.equal(durationSeconds("90s"), 90);
        assert.equal(durationSeconds("1500ms"), 2);
    });
});

describe("stack config errors name the key, the value and the fix", () => {
    const cases: { name: string; values: Record<string, string>; expect: RegExp[] }[] = [
        { name: "unknown enforcement", values: { enforcement: "strict" }, expect: [/policy-stack:enforcement = "strict": must be one of audit \| enforce/] },
        { name: "unknown cluster mode", values: { clusterMode: "eks" }, expect: [/clusterMode = "eks": must be one of kind \| existing/] },
        { name: "bad semver range", values: { semverRange: ">=banana" }, expect: [/semverRange = ">=banana": semver range ">=banana".*not a valid constraint/] },
        { name: "tag not semver", values: { artifactTag: "latest" }, expect: [/artifactTag = "latest": tag "latest" is not a semantic version/] },
        { name: "tag with two parts", values: { artifactTag: "1.0" }, expect: [/artifactTag = "1.0": .*MAJOR.MINOR.PATCH/] },
        { name: "prerelease tag outside a plain range", values: { artifactTag: "1.1.0-rc.1", semverRange: ">=1.0.0" }, expect: [/does not satisfy .*prerelease tags match only ranges that name a prerelease/] },
        { name: "tag outside the range", values: { artifactTag: "2.0.0", semverRange: "1.x" }, expect: [/artifactTag = "2.0.0" does not satisfy policy-stack:semverRange = "1.x": Flux would never select/] },
        { name: "url without oci://", values: { ...external, registryUrl: "ghcr.io/acme/p" }, expect: [/registryUrl = "ghcr.io\/acme\/p": .*must start with oci:\/\/ \(write oci:\/\/ghcr.io\/acme\/p\)/] },
        { name: "http:// url", values: { ...external, registryUrl: "http://ghcr.io/acme/p" }, expect: [/registryUrl = "http:\/\/ghcr.io\/acme\/p": .*not an http\(s\):\/\/ URL \(write oci:\/\/ghcr.io\/acme\/p\)/] },
        { name: "path traversal in the repository", values: { ...external, registryUrl: "oci://ghcr.io/acme/../other" }, expect: [/registryUrl = "oci:\/\/ghcr.io\/acme\/..\/other": invalid OCI URL/] },
        { name: "host with odd characters", values: { ...external, registryUrl: "oci://gh_cr.io/acme" }, expect: [/registryUrl = "oci:\/\/gh_cr.io\/acme": .*bad host "gh_cr.io"/] },
        { name: "missing registry url", values: { clusterMode: "existing" }, expect: [/registryUrl: required for registryMode external/] },
        { name: "private registry without password", values: { ...external, registryPrivate: "true", registryUsername: "bot" }, expect: [/registryPassword: required for a private registry; set it with 'pulumi config set --secret registryPassword/] },
        { name: "private registry without user", values: { ...external, registryPrivate: "true" }, expect: [/registryUsername: required because the registry is private/, /registryPassword: required/] },
        { name: "username with a colon", values: { ...external, registryUsername: "a:b", registryPassword: "x" }, expect: [/registryUsername = "a:b": must not contain ':'/] },
        { name: "local registry on an existing cluster", values: { clusterMode: "existing", registryMode: "local" }, expect: [/registryMode = "local": the local registry only works beside a kind cluster/] },
        { name: "bad duration", values: { reconcileTimeout: "five minutes" }, expect: [/reconcileTimeout = "five minutes": must be a Go duration/] },
        { name: "bad boolean", values: { forcePush: "yes" }, expect: [/forcePush = "yes": must be true or false/] },
        { name: "bad port", values: { localRegistryPort: "70000" }, expect: [/localRegistryPort = "70000": must be a TCP port/] },
        { name: "bad kind cluster name", values: { kindClusterName: "My_Cluster" }, expect: [/kindClusterName = "My_Cluster": must be a lowercase DNS label/] },
        { name: "bad flux version", values: { fluxVersion: "2.9" }, expect: [/fluxVersion = "2.9": must be a Flux release tag/] },
        { name: "flux manifest over http", values: { fluxInstallManifest: "http://example.com/install.yaml" }, expect: [/fluxInstallManifest = .*must be an https:\/\/ URL or a local file path/] },
        { name: "typo in a key", values: { enforcment: "enforce" }, expect: [/policy-stack:enforcment: unknown key; did you mean policy-stack:enforcement\?/] },
        { name: "kind-only key on an existing cluster", values: { ...external, kindNodeImage: "kindest/node:v1.33.0" }, expect: [/kindNodeImage = .*only applies to clusterMode kind/] },
        { name: "missing CA file", values: { ...external, registryCaFile: "/nonexistent/ca.pem" }, expect: [/registryCaFile = "\/nonexistent\/ca.pem": cannot be read: give the path of a PEM CA bundle/] },
        { name: "CA file that is not PEM", values: { ...external, registryCaFile: __filename }, expect: [/registryCaFile = .*holds no PEM certificate/] },
        { name: "chart path with a repository", values: { kyvernoChart: "./chart", kyvernoRepository: "https://example.com" }, expect: [/kyvernoRepository = .*does not apply to a local chart path/] },
    ];
    for (const c of cases) {
        test(c.name, () => {
            const problems = problemsOf(c.values);
            for (const re of c.expect) assert.ok(problems.some((p) => re.test(p)), `no problem matches ${re}:\n${problems.join("\n")}`);
        });
    }

    test("all problems are reported at once", () => {
        const problems = problemsOf({ enforcement: "strict", artifactTag: "latest", reconcileTimeout: "soon" });
        assert.equal(problems.length, 3);
    });

    test("secret values never appear in messages", () => {
        const problems = problemsOf({ clusterMode: "kind", kubeconfig: "TOP-SECRET-KUBECONFIG" });
        assert.ok(problems.some((p) => p.includes("kubeconfig = [secret]")));
        assert.ok(!problems.join("\n").includes("TOP-SECRET-KUBECONFIG"));
        const more = problemsOf({ ...external, registryPassword: "hunter2:@x" });
        assert.ok(!more.join("\n").includes("hunter2"));
    });
});

describe("oci urls", () => {
    test("parse host, port and nested repositories", () => {
        assert.deepEqual(parseOciUrl("oci://localhost:5001/team/policies"), { host: "localhost:5001", repository: "team/policies" });
        assert.deepEqual(parseOciUrl("oci://[::1]:5000/p"), { host: "[::1]:5000", repository: "p" });
    });
    test("reject tags, digests and uppercase repositories", () => {
        assert.match(parseOciUrl("oci://ghcr.io/acme/p:1.0.0") as string, /must not carry a tag or digest/);
        assert.match(parseOciUrl("oci://ghcr.io/Acme/p") as string, /invalid OCI URL/);
        assert.match(parseOciUrl("oci://ghcr.io") as string, /missing repository/);
        assert.match(parseOciUrl("oci://ghcr.io:99999/p") as string, /bad port/);
    });
    test("loopback detection", () => {
        for (const h of ["localhost:5000", "127.0.0.1", "127.1.2.3:80", "[::1]:5000"]) assert.ok(isLoopbackHost(h), h);
        for (const h of ["ghcr.io", "10.0.0.1:5000", "localhost.example.com"]) assert.ok(!isLoopbackHost(h), h);
    });
});

describe("one reader, a parser per section", () => {
    test("the reader refuses unknown keys and ignores other namespaces; each section parser adds its problems to it", () => {
        const reader = new ConfigReader({ ...cfg({ clusterMode: "kind", kubeContext: "prod", fluxVersion: "2", sourcName: "x" }), "other:key": "v" }, ctx);
        assert.deepEqual(parseCluster(reader, "dev"), { mode: "kind", name: "policy-stack-dev", nodeImage: DEFAULTS.kindNodeImage });
        assert.equal(parseFlux(reader).version, "2");
        assert.deepEqual(reader.problems, [
            "policy-stack:sourcName: unknown key; did you mean policy-stack:sourceName? (remove it with 'pulumi config rm policy-stack:sourcName')",
            'policy-stack:kubeContext = "prod": only applies to clusterMode existing (remove it, or set clusterMode existing)',
            'policy-stack:fluxVersion = "2": must be a Flux release tag such as v2.9.4',
        ]);
        assert.throws(() => reader.throwIfProblems(), (e: unknown) => e instanceof ConfigError && e.problems.length === 3);
    });
    test("a section parser on its own: Kyverno from a local chart takes no repository", () => {
        const reader = new ConfigReader(cfg({ kyvernoChart: "./charts/kyverno" }), ctx);
        assert.deepEqual(parseKyverno(reader), { chartVersion: DEFAULTS.kyvernoChartVersion, chart: path.resolve("/project", "charts/kyverno"), namespace: DEFAULTS.kyvernoNamespace });
        assert.deepEqual(reader.problems, []);
    });
    test("an empty stack gets the defaults table", () => {
        const c = parseStackConfig({}, ctx);
        assert.equal(c.flux.version, DEFAULTS.fluxVersion);
        assert.equal(c.flux.namespace, DEFAULTS.fluxNamespace);
        assert.equal(c.flux.interval, DEFAULTS.fluxInterval);
        assert.equal(c.flux.sourceName, DEFAULTS.sourceName);
        assert.equal(c.kyverno.chart, DEFAULTS.kyvernoChart);
        assert.equal(c.kyverno.chartVersion, DEFAULTS.kyvernoChartVersion);
        assert.equal(c.artifact.tag, DEFAULTS.artifactTag);
        assert.equal(c.enforcement, DEFAULTS.enforcement);
        assert.equal(c.registry.mode === "local" && c.registry.image, DEFAULTS.localRegistryImage);
    });
    test("registryHost: the host of an accepted URL; a URL the config refuses is an error, not a cast", () => {
        assert.equal(registryHost("oci://ghcr.io:443/acme/p"), "ghcr.io:443");
        assert.throws(() => registryHost("oci://user:pw@ghcr.io/p"), (e: unknown) => e instanceof Error && !e.message.includes("pw"));
    });
});
