/**
 * The policy stack: cluster → (Flux ∥ Kyverno) → registry secret, OCIRepository → Kustomization,
 * with the policy artifact built and pushed beside the cluster. Wiring only: the logic lives in
 * components/ and lib/.
 */
import * as pulumi from "@pulumi/pulumi";
import { readStackConfig } from "./components/config";
import { Cluster } from "./components/cluster";
import { LocalRegistry } from "./components/localRegistry";
import { Flux } from "./components/flux";
import { Kyverno } from "./components/kyverno";
import { RegistrySecret } from "./components/registrySecret";
import { RegistryCaSecret } from "./components/registryCa";
import * as fs from "node:fs";
import { PolicyArtifact, policyDirectoryError } from "./components/policyArtifact";
import { PolicySource } from "./components/policySource";
import { durationSeconds, parseOciUrl } from "./lib/config";
import { enforcementPatches, patchedBy } from "./lib/policies/enforcement";
import { prepareArtifact } from "./lib/publish";
import { compareWithPublished } from "./lib/published";

export = async () => {
    // Everything that can be wrong with the input fails here, before any resource is registered.
    const config = readStackConfig();
    const prepared = await prepareArtifact(config.artifact.policiesPath).catch((e: unknown) => {
        throw policyDirectoryError(e, `${pulumi.getProject()}:policiesPath`);
    });

    const cluster = new Cluster("cluster", config.cluster.mode === "kind"
        ? { mode: "kind", name: config.cluster.name, nodeImage: config.cluster.nodeImage, localRegistry: config.registry.mode === "local" }
        : {
            mode: "existing",
            kubeconfig: config.cluster.kubeconfig === undefined ? undefined : pulumi.secret(config.cluster.kubeconfig),
            context: config.cluster.context,
        });
    const k8s = { providers: { kubernetes: cluster.provider } };

    const registry = config.registry;
    const localRegistry = registry.mode === "local"
        ? new LocalRegistry("registry", {
            clusterName: cluster.name,
            containerName: registry.containerName,
            hostPort: registry.hostPort,
            image: registry.image,
        }, k8s)
        : undefined;
    const credentials = registry.mode === "external" && registry.username !== undefined && registry.password !== undefined
        ? { username: registry.username, password: pulumi.secret(registry.password) }
        : undefined;

    // Previews say which policies change against what Flux serves now, and warn early about what
    // the push would refuse: moving an existing tag to other content without forcePush (a warning,
    // so the per-policy diff can still be read before bumping the tag). Read-only and best effort:
    // an unreachable registry only costs the report.
    const comparison = pulumi.runtime.isDryRun()
        ? compareWithPublished({
            url: registry.pushUrl,
            tag: config.artifact.tag,
            semverRange: config.artifact.semverRange,
            local: prepared.summaries,
            localDigest: prepared.digest,
            credentials: registry.mode === "external" && registry.username !== undefined && registry.password !== undefined
                ? { username: registry.username, password: registry.password }
                : undefined,
            insecure: registry.insecure,
            caFile: registry.mode === "external" ? registry.caFile : undefined,
        }).catch((e: Error) => e)
        : undefined;
    const published = await comparison;
    const tagConflict = published && !(published instanceof Error) && published.tagDigest !== undefined
        && published.tagDigest !== prepared.digest && !config.artifact.force
        ? `policy-stack:artifactTag = "${config.artifact.tag}": ${registry.pushUrl}:${config.artifact.tag} already holds ${published.tagDigest}, ` +
            `and the policies now build ${prepared.digest}; pulumi up will refuse to move the tag: bump artifactTag (the semver range picks ` +
            "the new tag) or set forcePush true"
        : undefined;

    // The push needs the registry, never the cluster.
    const artifact = new PolicyArtifact("policies", {
        prepared,
        url: registry.pushUrl,
        tag: config.artifact.tag,
        insecure: registry.insecure,
        caFile: registry.mode === "external" ? registry.caFile : undefined,
        username: credentials?.username,
        password: credentials?.password,
        force: config.artifact.force,
    }, { dependsOn: localRegistry ? [localRegistry.container] : [] });

    const flux = new Flux("flux", { version: config.flux.version, installManifest: config.flux.installManifest }, k8s);
    const kyverno = new Kyverno("kyverno", {
        chartVersion: config.kyverno.chartVersion,
        chart: config.kyverno.chart,
        repository: config.kyverno.repository,
        namespace: config.kyverno.namespace,
        kubeconfig: cluster.kubeconfig,
        context: config.cluster.mode === "existing" ? config.cluster.context : undefined,
    }, k8s);

    const pullHost = (parseOciUrl(registry.pullUrl) as { host: string }).host;
    const secret = credentials
        ? new RegistrySecret("registry-credentials", {
            registryHost: pullHost,
            username: credentials.username,
            password: credentials.password,
            namespace: config.flux.namespace,
            secretName: `${config.flux.sourceName}-registry`,
        }, { ...k8s, dependsOn: flux.resources })
        : undefined;

    const caSecret = registry.mode === "external" && registry.caFile !== undefined
        ? new RegistryCaSecret("registry-ca", {
            caCertificate: fs.readFileSync(registry.caFile, "utf8"),
            namespace: config.flux.namespace,
            secretName: `${config.flux.sourceName}-registry-ca`,
        }, { ...k8s, dependsOn: flux.resources })
        : undefined;

    // One patch per distinct enforcement shape (not per policy); the `policies` output below still
    // reports each policy's enforcement.
    const patches = enforcementPatches(prepared.policies, config.enforcement);
    const patched = patchedBy(patches);
    const source = new PolicySource("policy-source", {
        sourceName: config.flux.sourceName,
        namespace: config.flux.namespace,
        url: registry.pullUrl,
        semverRange: config.artifact.semverRange,
        expectedRevision: artifact.revision,
        secretName: secret?.secretName,
        caSecretName: caSecret?.secretName,
        insecure: registry.insecure,
        interval: config.flux.interval,
        timeoutSeconds: durationSeconds(config.flux.reconcileTimeout),
        patches: patches.map((p) => ({ patch: p.patch, target: p.target })),
        sourceDependsOn: flux.resources.apply((rs) => [...rs, artifact.resource, ...(secret ? [secret.secret] : []), ...(caSecret ? [caSecret.secret] : [])]),
        applyDependsOn: [kyverno.release],
        kubeconfig: cluster.kubeconfig,
        context: config.cluster.mode === "existing" ? config.cluster.context : undefined,
    }, k8s);

    if (tagConflict) await pulumi.log.warn(tagConflict, artifact.resource);
    if (published instanceof Error) {
        await pulumi.log.info(`policies: ${prepared.policies.length} in the artifact; could not read the published one (${published.message})`, artifact.resource);
    } else if (published) {
        await pulumi.log.info([published.summary, ...published.text.split("\n").slice(1)].join("\n"), artifact.resource);
    }

    return {
        kubeconfig: cluster.kubeconfig,
        clusterName: cluster.name,
        registryPushUrl: registry.pushUrl,
        registryPullUrl: registry.pullUrl,
        artifactUrl: artifact.url,
        artifactTag: artifact.tag,
        artifactDigest: artifact.digest,
        artifactRevision: artifact.revision,
        enforcement: config.enforcement,
        policies: prepared.policies.map((p) => ({
            name: p.name,
            namespace: p.namespace,
            kind: p.kind,
            enforcement: patched(p) ? "Enforce" : p.enforcement,
        })),
        fluxVersion: flux.version,
        kyvernoChartVersion: kyverno.version,
        kyvernoVersion: kyverno.appVersion,
        ociRepository: { name: source.ociRepository.metadata.name, namespace: source.ociRepository.metadata.namespace },
        kustomization: { name: source.name, namespace: source.namespace },
    };
};
