/**
 * Signing in the end-to-end scenario: a key pair made by the real cosign, the real `cosign verify`
 * against the stack's artifact, and what an attacker with registry write access does behind the
 * program's back: move the stack's tag to other content, unsigned or signed with another key, or
 * with an old signature copied next to it (a replay). Registry traffic through lib/oci and
 * lib/signing, as any client would.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { buildInTempDir } from "../../lib/artifact";
import { pushImage, RegistryClient, type ClientOptions } from "../../lib/oci";
import { loadSigningKey, signArtifact, signatureTag } from "../../lib/signing";
import { waitFor, type Kubectl } from "../harness/kube";
import type { RegistryHandle } from "../harness/registry";
import { ensureTools } from "../harness/tools";
import type { E2eWorkspace } from "../harness/workspace";
import { COSIGN_VERIFY_OFFLINE_FLAGS, cosignRegistryFlags } from "./cosign";

/** A key pair `cosign generate-key-pair` wrote, and its password. */
export interface CosignKeyPair {
    key: string;
    pub: string;
    password: string;
    pubFile: string;
}

/** cosign's environment in the workspace: its own home, no ambient login or TUF cache. */
function cosignEnv(ws: E2eWorkspace, password?: string): NodeJS.ProcessEnv {
    const home = path.join(ws.root, "cosign-home");
    fs.mkdirSync(path.join(home, ".docker"), { recursive: true });
    return { HOME: home, DOCKER_CONFIG: path.join(home, ".docker"), TUF_ROOT: path.join(home, ".sigstore"), ...(password === undefined ? {} : { COSIGN_PASSWORD: password }) };
}

/** Makes a key pair with the real cosign (the pinned one), password-protected, in `<ws.root>/cosign/`. */
export async function cosignKeyPair(ws: E2eWorkspace): Promise<CosignKeyPair> {
    const { cosign } = await ensureTools(["cosign"]);
    const dir = path.join(ws.root, "cosign");
    fs.mkdirSync(dir, { recursive: true });
    const password = `e2e-sign-${crypto.randomBytes(9).toString("base64url")}`;
    const r = await ws.run(cosign, ["generate-key-pair", "--output-key-prefix", path.join(dir, "cosign")], { env: cosignEnv(ws, password), label: "cosign-generate-key-pair" });
    if (r.code !== 0) throw new Error(`cosign generate-key-pair failed: ${r.stderr}`);
    const pubFile = path.join(dir, "cosign.pub");
    return { key: fs.readFileSync(path.join(dir, "cosign.key"), "utf8"), pub: fs.readFileSync(pubFile, "utf8"), password, pubFile };
}

/** `cosign verify --key <pub> --insecure-ignore-tlog=true <host>/<repo>:<tag>` against the test registry: its exit code and output. */
export async function cosignVerify(ws: E2eWorkspace, registry: RegistryHandle, repository: string, tag: string, pubFile: string): Promise<{ code: number | null; output: string }> {
    const { cosign } = await ensureTools(["cosign"]);
    const r = await ws.run(cosign, ["verify", "--key", pubFile, ...COSIGN_VERIFY_OFFLINE_FLAGS, ...cosignRegistryFlags(registry), `${registry.host}/${repository}:${tag}`],
        { env: cosignEnv(ws), label: "cosign-verify" });
    return { code: r.code, output: r.stdout + r.stderr };
}

/** Connection options of lib/oci for the test registry. */
export function registryClientOptions(registry: RegistryHandle): ClientOptions {
    return { credentials: { username: registry.username!, password: registry.password! }, caFile: registry.caFile, insecure: false };
}

/**
 * Builds the policies of `dir` with another `created` time (so another digest) and force-pushes
 * them to `tag`, as someone with write access to the registry could. Returns the new digest.
 */
export async function pushBehindTheBack(registry: RegistryHandle, repository: string, tag: string, dir: string, created: string): Promise<string> {
    const { built, dispose } = await buildInTempDir(dir, { created, git: false });
    try {
        const pushed = await pushImage({ ...registryClientOptions(registry), url: registry.url(repository), tag, manifest: built.manifest, config: built.config,
            configDescriptor: built.configDescriptor, layers: [built.layer], force: true });
        return pushed.digest;
    } finally {
        await dispose();
    }
}

/** Signs `digest` with a fresh P-256 key that nobody trusts (PKCS#8, as openssl makes them). */
export async function signWithAnotherKey(registry: RegistryHandle, repository: string, digest: string): Promise<void> {
    const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
    const key = await loadSigningKey(privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    await signArtifact({ ...registryClientOptions(registry), url: registry.url(repository), digest, key, replace: true });
}

/** Puts the manifest `from` (a tag or digest) at tag `to`, byte for byte (how a tag is moved back, or a signature copied). */
export async function copyManifest(registry: RegistryHandle, repository: string, from: string, to: string): Promise<string> {
    const client = new RegistryClient(registry.url(repository), registryClientOptions(registry));
    try {
        const m = await client.getManifest(from);
        return await client.putManifest(to, m.body, m.mediaType ?? JSON.parse(m.body.toString()).mediaType);
    } finally {
        client.close();
    }
}

/** Copies the signature of `signed` to the signature tag of `other`: a replayed signature. */
export async function replaySignature(registry: RegistryHandle, repository: string, signed: string, other: string): Promise<void> {
    await copyManifest(registry, repository, signatureTag(signed), signatureTag(other));
}

/** A condition of the stack's OCIRepository, with the revision Flux serves. */
export interface SourceState {
    verified: { status?: string; reason?: string; message?: string };
    ready: { status?: string; message?: string };
    revision?: string;
    /** The last `reconcile.fluxcd.io/requestedAt` value source-controller has handled. */
    lastHandled?: string;
}

export async function sourceState(kube: Kubectl, namespace: string, name: string): Promise<SourceState> {
    const repo = await kube.getJson(["ocirepositories.source.toolkit.fluxcd.io", "-n", namespace, name]);
    const cond = (type: string) => ((repo.status?.conditions ?? []) as any[]).find((c) => c.type === type) ?? {};
    return { verified: cond("SourceVerified"), ready: cond("Ready"), revision: repo.status?.artifact?.revision, lastHandled: repo.status?.lastHandledReconcileAt };
}

/**
 * Asks source-controller to reconcile now (what `flux reconcile source oci` does) and waits until
 * it has handled the request: the state it reports then is its verdict on the registry as it is now.
 */
export async function reconcileNow(kube: Kubectl, namespace: string, name: string): Promise<SourceState> {
    const token = `e2e-${Date.now()}`;
    const r = await kube.run(["annotate", "--overwrite", "ocirepositories.source.toolkit.fluxcd.io", "-n", namespace, name, `reconcile.fluxcd.io/requestedAt=${token}`]);
    if (r.code !== 0) throw new Error(`annotate failed: ${r.stderr}`);
    return waitFor(`source-controller handles reconcile request ${token}`, () => sourceState(kube, namespace, name),
        (st: SourceState) => (st.lastHandled === token ? st : undefined), 3 * 60_000);
}
