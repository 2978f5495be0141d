/**
 * Stack seeding: the fresh stack the end-to-end scenario and the no-op preview benchmark both run
 * the program on: a kind cluster (kwok behind the shim), the test registry with htpasswd over TLS,
 * Flux's install.yaml and the Kyverno chart from the fixtures resolver, and a copy of policies/.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import type { ResolvedFluxInstall, ResolvedKyvernoChart } from "./fixtures-resolver";
import { repoRoot } from "./paths";
import type { RegistryHandle } from "./registry";
import type { E2eWorkspace } from "./workspace";

export interface StackSeed {
    stack: string;
    /** A `basic-tls` registry (username, password and CA are set as config). */
    registry: RegistryHandle;
    /** Repository of the policy artifact in that registry. */
    repository: string;
    fixtures: { flux: ResolvedFluxInstall; kyverno: ResolvedKyvernoChart };
    reconcileTimeoutS: number;
    /** A private key PEM and its password: the stack signs with it (signingKey, signingKeyPassword, both secret). Defaults to no signing. */
    signing?: { key: string; password: string };
}

/**
 * Copies the repository's policies/ into the workspace, runs `pulumi stack init` and sets the
 * stack's config; returns the policies directory the stack reads (edit it to change the policies).
 */
export async function seedStack(ws: E2eWorkspace, seed: StackSeed): Promise<{ policiesDir: string }> {
    const policiesDir = path.join(ws.root, "policies");
    fs.cpSync(path.join(repoRoot, "policies"), policiesDir, { recursive: true });
    await ws.pulumiOk(["stack", "init", seed.stack]);
    const set = (key: string, value: string, secret = false) => ws.pulumiOk(["config", "set", ...(secret ? ["--secret"] : []), key, value]);
    const { registry, fixtures } = seed;
    await set("clusterMode", "kind");
    await set("registryMode", "external");
    await set("registryUrl", registry.url(seed.repository));
    await set("registryUsername", registry.username!);
    await set("registryPassword", registry.password!, true);
    await set("registryCaFile", registry.caFile!);
    // TLS on loopback: the program would assume plain HTTP for 127.0.0.1 otherwise.
    await set("registryInsecure", "false");
    await set("fluxInstallManifest", fixtures.flux.path);
    await set("kyvernoChart", fixtures.kyverno.dir);
    await set("kyvernoChartVersion", fixtures.kyverno.version);
    await set("policiesPath", policiesDir);
    await set("reconcileTimeout", `${seed.reconcileTimeoutS}s`);
    if (seed.signing) {
        // On stdin, as the README says: a PEM value starts with dashes, and the command line is logged.
        await ws.pulumiOk(["config", "set", "--secret", "signingKey"], { input: seed.signing.key });
        await set("signingKeyPassword", seed.signing.password, true);
    }
    return { policiesDir };
}
