/**
 * The pinned cosign CLI for the signing tests: found (or built) like the other pinned tools
 * through test/harness/tools.ts, so a machine without it builds it with
 * `scripts/build-tools.sh cosign`, and a test that needs it fails, naming what is missing, when
 * that is impossible: it never skips. Each run gets its own HOME, DOCKER_CONFIG and TUF_ROOT, so
 * no ambient login or cache takes part.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { run, type RunResult as ExecResult } from "../harness/processes";
import type { RegistryHandle } from "../harness/registry";
import { ensureTools, readToolsEnv } from "../harness/tools";

/** A located cosign and a scratch home for its runs. */
export interface Cosign {
    path: string;
    version: string;
    /** Runs `cosign args…`; `env` adds to the isolated environment (COSIGN_PASSWORD, say). */
    run(args: string[], env?: Record<string, string>): Promise<ExecResult>;
    /** Removes the scratch home. */
    cleanup(): void;
}

/**
 * Finds or builds cosign (a cold build takes minutes) and checks it is the pinned version: the
 * flags the tests and the README give are those of that release.
 */
export async function ensureCosign(): Promise<Cosign> {
    const { cosign } = await ensureTools(["cosign"]);
    const version = readToolsEnv().COSIGN_VERSION;
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "cosign-home-"));
    const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: home,
        DOCKER_CONFIG: path.join(home, ".docker"),
        TUF_ROOT: path.join(home, ".sigstore"),
        TMPDIR: os.tmpdir(),
    };
    const runCosign = (args: string[], extra: Record<string, string> = {}) => run(cosign, args, { env: { ...env, ...extra }, timeoutMs: 120_000, cwd: home });
    const v = await runCosign(["version"]);
    const reported = /GitVersion:\s*(\S+)/.exec(v.stdout + v.stderr)?.[1];
    if (reported !== version) {
        fs.rmSync(home, { recursive: true, force: true });
        throw new Error(`${cosign} reports version ${reported ?? "(none)"}, the pin is ${version} (scripts/tools.env COSIGN_VERSION); rebuild with scripts/build-tools.sh cosign`);
    }
    return { path: cosign, version, run: runCosign, cleanup: () => fs.rmSync(home, { recursive: true, force: true }) };
}

/**
 * cosign's flags to reach a test registry: the test CA for TLS, the credentials when set. (A
 * plain-HTTP registry on 127.0.0.1 needs none: go-containerregistry speaks HTTP to loopback.)
 */
export function cosignRegistryFlags(reg: RegistryHandle): string[] {
    const out: string[] = [];
    if (reg.caFile) out.push("--registry-cacert", reg.caFile);
    if (reg.username) out.push("--registry-username", reg.username, "--registry-password", reg.password!);
    return out;
}

/**
 * The flags with which `cosign verify --key` checks a classic signature made without a
 * transparency log entry (what lib/signing writes, and what Flux's key-based verification checks):
 * `--insecure-ignore-tlog=true`. Nothing else is needed: cosign v3 first looks for a v3 bundle
 * (OCI referrers, then the referrers tag) and, finding none, verifies the `.sig` tag.
 */
export const COSIGN_VERIFY_OFFLINE_FLAGS = ["--insecure-ignore-tlog=true"] as const;

/** `cosign sign` of a classic `.sig` signature with a key, without a transparency log or signing config. */
export const COSIGN_SIGN_CLASSIC_FLAGS = ["--tlog-upload=false", "--use-signing-config=false", "--new-bundle-format=false", "--yes"] as const;
