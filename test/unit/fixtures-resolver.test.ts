import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

import {
    chartCrd,
    crdFromChartTemplate,
    enabledByDefault,
    FixtureUnavailableError,
    fluxInstallUrl,
    OFFLINE_FIXTURES,
    pinsFrom,
    planOfflineDependencies,
    requiredModuleVersion,
    resolveE2eFixtures,
    resolveFluxInstall,
    resolveKyvernoChart,
    sha256Hex,
    unavailableMessage,
    type FixturePins,
    type GoResult,
    type ResolverIo,
} from "../harness/fixtures-resolver";
import { tempDir, writeTree } from "../fixtures/tree";

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

const FLUX = "---\n# Flux Version: v2.9.4\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n";
const PINS: FixturePins = { fluxVersion: "v2.9.4", fluxInstallSha256: sha256Hex(FLUX), kyvernoVersion: "v1.19.1", kyvernoChartVersion: "3.9.1" };
const API_VERSION = "v0.0.1-alpha.3.0.20260723090831-fb2785727f98";

describe("fixtures resolver: pure logic", () => {
    test("Helm's default for a dependency: first boolean condition path, then tags, then enabled", () => {
        const values = { crds: { install: true }, openreports: { installCrds: false }, odd: { flag: "yes" }, tags: { extras: false, core: true } };
        const cases: [Parameters<typeof enabledByDefault>[0], boolean][] = [
            [{ condition: "crds.install" }, true],
            [{ condition: "openreports.installCrds" }, false],
            [{ condition: "missing.path" }, true],
            [{ condition: "odd.flag" }, true],
            [{ condition: "missing.path, openreports.installCrds" }, false],
            [{ condition: "crds.install", tags: ["extras"] }, true],
            [{ tags: ["extras"] }, false],
            [{ tags: ["extras", "core"] }, true],
            [{}, true],
        ];
        for (const [dep, want] of cases) assert.equal(enabledByDefault(dep, values), want, JSON.stringify(dep));
    });

    test("offline plan: present by name, absent and off → drop, absent and on → supply", () => {
        const plan = planOfflineDependencies([
            { name: "crds", condition: "crds.install" },
            { name: "kyverno-api", repository: "https://kyverno.github.io/api", condition: "crds.install" },
            { name: "openreports", repository: "https://openreports.github.io/reports-api", condition: "openreports.installCrds" },
        ], { crds: { install: true }, openreports: { installCrds: false } }, new Set(["crds", "grafana"]));
        assert.deepEqual(plan.present.map((d) => d.name), ["crds"]);
        assert.deepEqual(plan.drop.map((d) => d.name), ["openreports"]);
        assert.deepEqual(plan.supply.map((d) => d.name), ["kyverno-api"]);
    });

    test("go.mod: a required version from a block or a single require line", () => {
        const block = `module github.com/kyverno/kyverno\n\nrequire (\n\tgithub.com/kyverno/api ${API_VERSION}\n\tgithub.com/kyverno/api-extra v1.0.0\n)\n`;
        assert.equal(requiredModuleVersion(block, "github.com/kyverno/api"), API_VERSION);
        assert.equal(requiredModuleVersion("require github.com/a/b v1.2.3 // indirect\n", "github.com/a/b"), "v1.2.3");
        assert.equal(requiredModuleVersion(block, "github.com/kyverno"), undefined);
    });

    test("a CRD template of a chart reads as the plain CRD; other templating is refused", () => {
        const tpl = [
            "{{- if .Values.groups.kyverno.clusterpolicies }}",
            "---",
            "apiVersion: apiextensions.k8s.io/v1",
            "kind: CustomResourceDefinition",
            "metadata:",
            "  labels:",
            "    {{- include \"kyverno.crds.labels\" . | nindent 4 }}",
            "  annotations:",
            "    {{- with .Values.annotations }}",
            "    {{- toYaml . | nindent 4 }}",
            "    {{- end }}",
            "    controller-gen.kubebuilder.io/version: v0.20.0",
            "  name: clusterpolicies.kyverno.io",
            "spec:",
            "  group: kyverno.io",
            "{{- end }}",
        ].join("\n");
        const crd = crdFromChartTemplate(tpl, "t.yaml");
        assert.deepEqual(crd.metadata, { annotations: { "controller-gen.kubebuilder.io/version": "v0.20.0" }, name: "clusterpolicies.kyverno.io" });
        assert.equal(crd.spec.group, "kyverno.io");
        assert.throws(() => crdFromChartTemplate(tpl.replace("group: kyverno.io", "group: {{ .Values.group }}"), "t.yaml"), /t\.yaml: templating left in line "group: \{\{ \.Values\.group \}\}"/);
        assert.throws(() => crdFromChartTemplate("kind: ConfigMap\n", "c.yaml"), /c\.yaml: expected one CustomResourceDefinition, found ConfigMap/);
    });

    test("pins: every key named when missing; the sha256 must be hex", () => {
        assert.throws(() => pinsFrom({ FLUX_VERSION: "v2.9.4" }), /lacks FLUX_INSTALL_SHA256, KYVERNO_VERSION, KYVERNO_CHART_VERSION/);
        assert.throws(() => pinsFrom({ FLUX_VERSION: "v", FLUX_INSTALL_SHA256: "abc", KYVERNO_VERSION: "v", KYVERNO_CHART_VERSION: "1" }), /FLUX_INSTALL_SHA256=abc is not a hex sha256/);
        assert.deepEqual(pinsFrom({ FLUX_VERSION: "v2.9.4", FLUX_INSTALL_SHA256: PINS.fluxInstallSha256, KYVERNO_VERSION: "v1.19.1", KYVERNO_CHART_VERSION: "3.9.1" }), PINS);
    });

    test("the failure message: the need, every way with its reason, how to provide it", () => {
        assert.equal(unavailableMessage("X 1.0", [{ way: "A", result: "not set" }, { way: "B", result: "offline" }], ["set A;", "or B."]), [
            "The end-to-end tests need X 1.0, and no way to get it worked:",
            "  - A: not set",
            "  - B: offline",
            "Provide it in one of these ways:",
            "  - set A;",
            "  - or B.",
        ].join("\n"));
    });
});

/** A checkout in `<tmp>/parent/checkout`, so its offline fixtures directory is `<tmp>/parent/` + the directory OFFLINE_FIXTURES names. */
interface Sandbox {
    tmp: string;
    checkout: string;
    shared: string;
    cache: string;
    io: ResolverIo;
    fetched: string[];
    goCalls: string[][];
    debug: string[];
    cleanup: () => void;
}

function sandbox(over: { fetch?: ResolverIo["fetch"]; go?: ResolverIo["go"]; env?: Record<string, string> } = {}): Sandbox {
    const t = tempDir("fixtures-resolver-");
    const checkout = path.join(t.dir, "parent", "checkout");
    fs.mkdirSync(checkout, { recursive: true });
    const s: Sandbox = {
        tmp: t.dir,
        checkout,
        shared: path.join(t.dir, "parent", "shared", "fixtures"),
        cache: path.join(t.dir, "cache", "policy-stack", "fixtures"),
        fetched: [],
        goCalls: [],
        debug: [],
        io: undefined as unknown as ResolverIo,
        cleanup: () => {
            makeWritable(t.dir);
            t.cleanup();
        },
    };
    s.io = {
        env: over.env ?? {},
        repoRoot: checkout,
        cacheDir: s.cache,
        pins: PINS,
        fetch: async (url, timeoutMs) => {
            s.fetched.push(url);
            assert.ok(timeoutMs > 0, "a timeout is set");
            if (!over.fetch) throw new Error("fetch failed: getaddrinfo ENOTFOUND github.com");
            return over.fetch(url, timeoutMs);
        },
        go: async (args, timeoutMs) => {
            s.goCalls.push(args);
            if (!over.go) return { code: null, stdout: "", stderr: "", error: "go is not on PATH" };
            return over.go(args, timeoutMs);
        },
        debug: (line) => s.debug.push(line),
    };
    return s;
}

function makeWritable(dir: string): void {
    if (!fs.existsSync(dir)) return;
    fs.chmodSync(dir, 0o755);
    for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, ent.name);
        if (ent.isDirectory()) makeWritable(p);
        else fs.chmodSync(p, 0o644);
    }
}

/** Read-only, as the Go module cache stores extracted modules. */
function makeReadOnly(dir: string): void {
    for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, ent.name);
        if (ent.isDirectory()) makeReadOnly(p);
        else fs.chmodSync(p, 0o444);
    }
    fs.chmodSync(dir, 0o555);
}

describe("resolveFluxInstall", () => {
    let s: Sandbox;
    afterEach(() => s.cleanup());

    test("POLICY_STACK_FLUX_INSTALL wins over the offline fixtures and the network, used as given", async () => {
        s = sandbox();
        const own = path.join(s.tmp, "my-install.yaml");
        fs.writeFileSync(own, "other: manifest\n");
        writeTree(s.shared, { "flux/install.yaml": FLUX });
        const r = await resolveFluxInstall({ ...s.io, env: { POLICY_STACK_FLUX_INSTALL: own } });
        assert.deepEqual(r, { path: own, version: "v2.9.4", sha256: sha256Hex("other: manifest\n"), source: "POLICY_STACK_FLUX_INSTALL" });
        assert.deepEqual(s.fetched, []);
        assert.ok(s.debug.some((l) => l.includes("not the pinned") && l.includes("used as given")), s.debug.join("\n"));
    });

    test("POLICY_STACK_FLUX_INSTALL naming no file fails at once, naming the variable", async () => {
        s = sandbox();
        writeTree(s.shared, { "flux/install.yaml": FLUX });
        await assert.rejects(resolveFluxInstall({ ...s.io, env: { POLICY_STACK_FLUX_INSTALL: "/nonexistent/install.yaml" } }),
            (e: Error) => e instanceof FixtureUnavailableError && /^POLICY_STACK_FLUX_INSTALL=\/nonexistent\/install\.yaml: no such file/.test(e.message));
        assert.deepEqual(s.fetched, []);
    });

    test("the offline fixtures when its sha256 is the pin; nothing downloaded", async () => {
        s = sandbox();
        writeTree(s.shared, { "flux/install.yaml": FLUX });
        const r = await resolveFluxInstall(s.io);
        assert.equal(r.path, path.join(s.shared, "flux", "install.yaml"));
        assert.equal(r.source, OFFLINE_FIXTURES);
        assert.deepEqual(s.fetched, []);
        assert.equal(fs.existsSync(s.cache), false);
    });

    test("a different offline fixture file is skipped (debug line); the download is checked, cached by version, then reused", async () => {
        s = sandbox({ fetch: async () => Buffer.from(FLUX) });
        writeTree(s.shared, { "flux/install.yaml": "stale: true\n" });
        const first = await resolveFluxInstall(s.io);
        const cached = path.join(s.cache, "flux-install", "v2.9.4", "install.yaml");
        assert.deepEqual(first, { path: cached, version: "v2.9.4", sha256: PINS.fluxInstallSha256, source: fluxInstallUrl("v2.9.4") });
        assert.equal(fs.readFileSync(cached, "utf8"), FLUX);
        assert.deepEqual(s.fetched, ["https://github.com/fluxcd/flux2/releases/download/v2.9.4/install.yaml"]);
        assert.ok(s.debug.some((l) => l.startsWith(`skipping ${path.join(s.shared, "flux", "install.yaml")}: sha256 ${sha256Hex("stale: true\n")}, not the pinned`)), s.debug.join("\n"));
        assert.deepEqual(fs.readdirSync(path.join(s.cache, "flux-install")), ["v2.9.4"], "no temporary directory left");

        const second = await resolveFluxInstall(s.io);
        assert.equal(second.path, cached);
        assert.match(second.source, /^cache/);
        assert.equal(s.fetched.length, 1, "the second resolution does not download");
    });

    test("a cached file that fails the pin is discarded and fetched again", async () => {
        s = sandbox({ fetch: async () => Buffer.from(FLUX) });
        writeTree(s.cache, { "flux-install/v2.9.4/install.yaml": "truncated" });
        const r = await resolveFluxInstall(s.io);
        assert.equal(fs.readFileSync(r.path, "utf8"), FLUX);
        assert.equal(s.fetched.length, 1);
        assert.deepEqual(fs.readdirSync(path.join(s.cache, "flux-install")), ["v2.9.4"]);
    });

    test("a download with another digest fails naming both digests, and is not cached", async () => {
        s = sandbox({ fetch: async () => Buffer.from("tampered\n") });
        await assert.rejects(resolveFluxInstall(s.io), (e: Error) => {
            assert.ok(e instanceof FixtureUnavailableError);
            assert.ok(e.message.includes(`got sha256 ${sha256Hex("tampered\n")}, but FLUX_INSTALL_SHA256 in scripts/tools.env pins ${PINS.fluxInstallSha256}`), e.message);
            return true;
        });
        assert.equal(fs.existsSync(path.join(s.cache, "flux-install", "v2.9.4")), false);
    });

    test("nothing works: one message with the need, each way and why, and how to provide it", async () => {
        s = sandbox();
        await assert.rejects(resolveFluxInstall(s.io), (e: Error) => {
            assert.ok(e instanceof FixtureUnavailableError);
            const lines = e.message.split("\n");
            assert.equal(lines[0], `The end-to-end tests need Flux's install manifest v2.9.4 (install.yaml with sha256 ${PINS.fluxInstallSha256}), and no way to get it worked:`);
            assert.equal(lines[1], "  - POLICY_STACK_FLUX_INSTALL: not set");
            assert.equal(lines[2], `  - ${OFFLINE_FIXTURES}/flux/install.yaml (${path.join(s.shared, "flux", "install.yaml")}): not present`);
            assert.match(lines[3], /^ {2}- download https:\/\/github\.com\/fluxcd\/flux2\/releases\/download\/v2\.9\.4\/install\.yaml \(60s timeout\): fetch failed: getaddrinfo ENOTFOUND github\.com$/);
            assert.equal(lines[4], "Provide it in one of these ways:");
            assert.match(lines[5], /^ {2}- set POLICY_STACK_FLUX_INSTALL to the path of that install\.yaml;$/);
            assert.match(lines[6], new RegExp(`^ {2}- or put it at ${escapeRegExp(OFFLINE_FIXTURES)}/flux/install\\.yaml beside the checkout`));
            assert.match(lines[7], /^ {2}- or let this machine reach https:\/\/github\.com\/.* once \(the file is then cached in .*flux-install\/v2\.9\.4\)\.$/);
            assert.equal(lines.length, 8);
            return true;
        });
    });
});

/** A kyverno module as the Go module cache holds it (read-only), with the 3.9.1 chart's dependency list. */
function fakeModules(root: string, o: { chartVersion?: string; extraDep?: string } = {}): { kyverno: string; api: string } {
    const kyverno = path.join(root, "mod", "github.com", "kyverno", "kyverno@v1.19.1");
    const api = path.join(root, "mod", "github.com", "kyverno", `api@${API_VERSION}`);
    writeTree(kyverno, {
        "go.mod": `module github.com/kyverno/kyverno\n\ngo 1.25\n\nrequire (\n\tgithub.com/kyverno/api ${API_VERSION}\n)\n`,
        "charts/kyverno/Chart.yaml": [
            "apiVersion: v2",
            "name: kyverno",
            `version: ${o.chartVersion ?? "3.9.1"}  # VERSION`,
            "appVersion: v1.19.1",
            "annotations:",
            "  artifacthub.io/changes: |",
            "    - kind: fixed",
            "      description: something",
            "dependencies:",
            "  - name: grafana",
            "    version: 3.9.1  # VERSION",
            "    condition: grafana.enabled",
            "  - name: crds",
            "    version: 3.9.1  # VERSION",
            "    condition: crds.install",
            "  - name: kyverno-api",
            "    version: 0.0.1-alpha.4",
            "    repository: \"https://kyverno.github.io/api\"",
            "    condition: crds.install",
            "  - name: openreports",
            "    version: 0.1.0",
            "    repository: \"https://openreports.github.io/reports-api\"",
            "    condition: openreports.installCrds",
            "  - name: reports-server",
            "    version: 0.1.6",
            "    repository: \"https://kyverno.github.io/reports-server/\"",
            "    condition: reportsServer.enabled",
            ...(o.extraDep ? [`  - name: ${o.extraDep}`, "    version: 1.0.0", "    repository: https://example.com/charts"] : []),
            "",
        ].join("\n"),
        "charts/kyverno/Chart.lock": "dependencies: []\ndigest: sha256:0\n",
        "charts/kyverno/values.yaml": "crds:\n  install: true\nopenreports:\n  enabled: false\n  installCrds: false\nreportsServer:\n  enabled: false\ngrafana:\n  enabled: false\n",
        "charts/kyverno/templates/deployment.yaml": "kind: Deployment\n",
        "charts/kyverno/charts/crds/Chart.yaml": "apiVersion: v2\nname: crds\nversion: 3.9.1\n",
        "charts/kyverno/charts/grafana/Chart.yaml": "apiVersion: v2\nname: grafana\nversion: 3.9.1\n",
    });
    writeTree(api, {
        "go.mod": "module github.com/kyverno/api\n",
        "charts/kyverno-api/Chart.yaml": "apiVersion: v2\nname: kyverno-api\nversion: v0.0.0\n",
        "charts/kyverno-api/templates/crds/policies.kyverno.io_validatingpolicies.yaml": "kind: CustomResourceDefinition\n",
    });
    makeReadOnly(path.join(root, "mod"));
    return { kyverno, api };
}

/** `go mod download -json` over the fake module directory. */
function fakeGo(mods: Record<string, string>): ResolverIo["go"] {
    return async (args): Promise<GoResult> => {
        assert.deepEqual(args.slice(0, 3), ["mod", "download", "-json"]);
        const dir = mods[args[3]];
        if (!dir) return { code: 1, stdout: JSON.stringify({ Path: args[3].split("@")[0], Error: `${args[3]}: unknown revision` }), stderr: "" };
        return { code: 0, stdout: JSON.stringify({ Path: args[3].split("@")[0], Version: args[3].split("@")[1], Dir: dir, GoMod: path.join(dir, "go.mod") }), stderr: "" };
    };
}

describe("resolveKyvernoChart", () => {
    let s: Sandbox;
    let mods: { kyverno: string; api: string };
    let go: ResolverIo["go"];
    beforeEach(() => {
        s = sandbox();
        mods = fakeModules(s.tmp);
        go = fakeGo({ "github.com/kyverno/kyverno@v1.19.1": mods.kyverno, [`github.com/kyverno/api@${API_VERSION}`]: mods.api });
    });
    afterEach(() => s.cleanup());

    test("the 3.4.5 chart in the offline fixtures is skipped (debug line); the module's chart is cached, installable offline, then reused", async () => {
        writeTree(s.shared, { "kyverno/chart/Chart.yaml": "apiVersion: v2\nname: kyverno\nversion: 3.4.5\nappVersion: v1.14.5\n" });
        const r = await resolveKyvernoChart({ ...s.io, go: async (a, t) => (s.goCalls.push(a), go(a, t)) });
        const dir = path.join(s.cache, "kyverno-chart", "3.9.1", "kyverno");
        assert.deepEqual(r, { dir, version: "3.9.1", appVersion: "v1.19.1", source: "github.com/kyverno/kyverno@v1.19.1" });
        assert.ok(s.debug.includes(`skipping ${path.join(s.shared, "kyverno", "chart")}: chart version 3.4.5, not the pinned 3.9.1 (KYVERNO_CHART_VERSION)`), s.debug.join("\n"));
        assert.deepEqual(s.goCalls.map((a) => a[3]), ["github.com/kyverno/kyverno@v1.19.1", `github.com/kyverno/api@${API_VERSION}`]);

        const chart = yaml.load(fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8")) as any;
        const apiChartVersion = API_VERSION.slice(1);
        assert.deepEqual(chart.dependencies, [
            { name: "grafana", version: "3.9.1", condition: "grafana.enabled" },
            { name: "crds", version: "3.9.1", condition: "crds.install" },
            { name: "kyverno-api", version: apiChartVersion, condition: "crds.install" },
        ]);
        assert.equal(chart.version, "3.9.1");
        assert.equal(chart.annotations["artifacthub.io/changes"], "- kind: fixed\n  description: something\n");
        const header = fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8").split("\n").filter((l) => l.startsWith("#"));
        assert.ok(header.some((l) => l.includes(`kyverno-api: https://kyverno.github.io/api 0.0.1-alpha.4 replaced by charts/kyverno-api of github.com/kyverno/api@${API_VERSION}`)), header.join("\n"));
        assert.ok(header.some((l) => l.includes("openreports: https://openreports.github.io/reports-api 0.1.0 removed from the dependencies (condition openreports.installCrds is off by default)")), header.join("\n"));
        assert.ok(header.some((l) => l.includes("reports-server:")), header.join("\n"));
        assert.equal((yaml.load(fs.readFileSync(path.join(dir, "charts", "kyverno-api", "Chart.yaml"), "utf8")) as any).version, apiChartVersion);
        assert.ok(fs.existsSync(path.join(dir, "charts", "kyverno-api", "templates", "crds", "policies.kyverno.io_validatingpolicies.yaml")));
        assert.equal(fs.existsSync(path.join(dir, "Chart.lock")), false, "the upstream lock no longer describes the dependencies");
        fs.accessSync(path.join(dir, "values.yaml"), fs.constants.W_OK);
        fs.accessSync(path.join(dir, "templates"), fs.constants.W_OK);
        assert.deepEqual(fs.readdirSync(path.join(s.cache, "kyverno-chart")), ["3.9.1"], "no temporary directory left");

        s.goCalls.length = 0;
        const again = await resolveKyvernoChart({ ...s.io, go: async (a, t) => (s.goCalls.push(a), go(a, t)) });
        assert.equal(again.dir, dir);
        assert.match(again.source, /^cache/);
        assert.deepEqual(s.goCalls, [], "the cached chart needs no go");
    });

    test("two resolutions at once: both get the one complete cache entry", async () => {
        const [a, b] = await Promise.all([resolveKyvernoChart({ ...s.io, go }), resolveKyvernoChart({ ...s.io, go })]);
        assert.equal(a.dir, b.dir);
        assert.deepEqual(fs.readdirSync(path.join(s.cache, "kyverno-chart")), ["3.9.1"]);
        assert.ok(fs.existsSync(path.join(a.dir, "charts", "kyverno-api", "Chart.yaml")));
    });

    test("the offline fixtures when it is the pinned chart with its dependencies present", async () => {
        writeTree(s.shared, {
            "kyverno/chart/Chart.yaml": "apiVersion: v2\nname: kyverno\nversion: 3.9.1\nappVersion: v1.19.1\ndependencies:\n  - name: crds\n    version: 3.9.1\n",
            "kyverno/chart/charts/crds/Chart.yaml": "apiVersion: v2\nname: crds\nversion: 3.9.1\n",
        });
        const r = await resolveKyvernoChart({ ...s.io, go });
        assert.equal(r.dir, path.join(s.shared, "kyverno", "chart"));
        assert.equal(r.source, OFFLINE_FIXTURES);
        assert.deepEqual(s.goCalls, []);
    });

    test("POLICY_STACK_KYVERNO_CHART: used as given; one Helm cannot install offline fails at once", async () => {
        const own = path.join(s.tmp, "own-chart");
        writeTree(own, { "Chart.yaml": "apiVersion: v2\nname: kyverno\nversion: 3.10.0\nappVersion: v1.20.0\n" });
        const r = await resolveKyvernoChart({ ...s.io, go, env: { POLICY_STACK_KYVERNO_CHART: own } });
        assert.deepEqual(r, { dir: own, version: "3.10.0", appVersion: "v1.20.0", source: "POLICY_STACK_KYVERNO_CHART" });

        writeTree(own, { "Chart.yaml": "apiVersion: v2\nname: kyverno\nversion: 3.9.1\ndependencies:\n  - name: openreports\n    repository: https://openreports.github.io/reports-api\n" });
        await assert.rejects(resolveKyvernoChart({ ...s.io, go, env: { POLICY_STACK_KYVERNO_CHART: own } }),
            /^FixtureUnavailableError: POLICY_STACK_KYVERNO_CHART=.*own-chart: Chart\.yaml lists dependencies missing under charts\/ \(openreports\), so Helm refuses to install it offline/);
        await assert.rejects(resolveKyvernoChart({ ...s.io, go, env: { POLICY_STACK_KYVERNO_CHART: path.join(s.tmp, "nothing") } }), /nothing: not present\. Point it at a Kyverno chart directory/);
        assert.deepEqual(s.goCalls, []);
    });

    test("a remote dependency on by default with no known offline source fails, naming it; nothing is cached", async () => {
        s.cleanup();
        s = sandbox();
        mods = fakeModules(s.tmp, { extraDep: "policy-reporter" });
        go = fakeGo({ "github.com/kyverno/kyverno@v1.19.1": mods.kyverno, [`github.com/kyverno/api@${API_VERSION}`]: mods.api });
        await assert.rejects(resolveKyvernoChart({ ...s.io, go }),
            /Go module proxy \(go mod download -json github\.com\/kyverno\/kyverno@v1\.19\.1\): charts\/kyverno depends on policy-reporter 1\.0\.0 from https:\/\/example\.com\/charts, enabled by default \(condition none\), and no offline source for it is known/);
        assert.deepEqual(fs.readdirSync(path.join(s.cache, "kyverno-chart")), [], "the failed assembly left nothing");
    });

    test("pins that disagree (the module carries another chart version) are named", async () => {
        s.cleanup();
        s = sandbox();
        mods = fakeModules(s.tmp, { chartVersion: "3.9.0" });
        go = fakeGo({ "github.com/kyverno/kyverno@v1.19.1": mods.kyverno });
        await assert.rejects(resolveKyvernoChart({ ...s.io, go }), /carries chart 3\.9\.0, not the pinned 3\.9\.1: KYVERNO_VERSION and KYVERNO_CHART_VERSION in scripts\/tools\.env disagree/);
    });

    test("no go, no offline fixtures: one message naming the chart, each way and how to provide it", async () => {
        await assert.rejects(resolveKyvernoChart(s.io), (e: Error) => {
            assert.ok(e instanceof FixtureUnavailableError);
            const lines = e.message.split("\n");
            assert.equal(lines[0], "The end-to-end tests need the Kyverno Helm chart 3.9.1 (Kyverno v1.19.1), and no way to get it worked:");
            assert.equal(lines[1], "  - POLICY_STACK_KYVERNO_CHART: not set");
            assert.equal(lines[2], `  - ${OFFLINE_FIXTURES}/kyverno/chart (${path.join(s.shared, "kyverno", "chart")}): not present`);
            assert.equal(lines[3], "  - Go module proxy (go mod download -json github.com/kyverno/kyverno@v1.19.1): go is not on PATH");
            assert.equal(lines[4], "Provide it in one of these ways:");
            assert.match(lines[5], /^ {2}- set POLICY_STACK_KYVERNO_CHART to a directory holding that chart \(charts\/kyverno of github\.com\/kyverno\/kyverno at v1\.19\.1/);
            assert.match(lines[6], new RegExp(`^ {2}- or put it at ${escapeRegExp(OFFLINE_FIXTURES)}/kyverno/chart beside the checkout`));
            assert.match(lines[7], /^ {2}- or give this machine Go and the Go module proxy \(GOPROXY\) once \(the chart is then cached in .*kyverno-chart\/3\.9\.1\)\.$/);
            return true;
        });
    });

    test("a module the proxy does not serve: go's own error is quoted", async () => {
        await assert.rejects(resolveKyvernoChart({ ...s.io, go: fakeGo({}) }), /go mod download -json github\.com\/kyverno\/kyverno@v1\.19\.1\): github\.com\/kyverno\/kyverno@v1\.19\.1: unknown revision/);
    });
});

describe("resolveE2eFixtures and chartCrd", () => {
    let s: Sandbox;
    afterEach(() => s.cleanup());

    test("both resolved together; when both fail, both messages, before anything starts", async () => {
        s = sandbox();
        writeTree(s.shared, {
            "flux/install.yaml": FLUX,
            "kyverno/chart/Chart.yaml": "apiVersion: v2\nname: kyverno\nversion: 3.9.1\nappVersion: v1.19.1\n",
            "kyverno/chart/charts/crds/templates/kyverno.io/kyverno.io_clusterpolicies.yaml":
                "{{- if true }}\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: clusterpolicies.kyverno.io\n{{- end }}\n",
        });
        const { flux, kyverno } = await resolveE2eFixtures(s.io);
        assert.equal(flux.source, OFFLINE_FIXTURES);
        assert.equal(kyverno.version, "3.9.1");
        assert.equal(chartCrd(kyverno.dir, "kyverno.io", "kyverno.io_clusterpolicies.yaml").metadata.name, "clusterpolicies.kyverno.io");

        fs.rmSync(path.join(s.tmp, "parent", "shared"), { recursive: true });
        await assert.rejects(resolveE2eFixtures(s.io), (e: Error) => {
            assert.ok(e instanceof FixtureUnavailableError);
            assert.match(e.message, /^The end-to-end tests need Flux's install manifest v2\.9\.4 [^]*\n\nThe end-to-end tests need the Kyverno Helm chart 3\.9\.1 /);
            return true;
        });
    });
});
