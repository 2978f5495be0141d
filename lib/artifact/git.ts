/**
 * Git metadata for the OCI annotations, read with the `git` CLI. Every failure (no git binary, not
 * a checkout, unborn branch, "dubious ownership") falls back to "unknown" instead of failing the
 * build: the annotations are informational and can be given explicitly.
 */
import { execFile } from "node:child_process";

export interface GitInfo {
    /** Top level of the checkout. */
    topLevel: string;
    /** Full commit id of HEAD. */
    commit: string;
    /** "sha1" or "sha256" (the repository's object format). */
    objectFormat: string;
    /** Current branch, when HEAD is on one. */
    branch?: string;
    /** Tag pointing exactly at HEAD, when detached on a tag. */
    tag?: string;
    /** Committer time of HEAD, RFC3339 UTC without fractional seconds. */
    commitTime: string;
    /** `origin` URL with any credentials removed. */
    remoteUrl?: string;
    /** Whether the policy directory has uncommitted changes (then the revision does not describe the content exactly). */
    dirty: boolean;
}

function git(cwd: string, args: string[]): Promise<string | undefined> {
    return new Promise((resolve) => {
        execFile(
            "git",
            args,
            { cwd, timeout: 10_000, windowsHide: true, env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" } },
            (err, stdout) => resolve(err ? undefined : stdout.trim()),
        );
    });
}

/** Removes `user:password@` from URL-style remotes so tokens never end up in an artifact. */
export function redactRemoteUrl(url: string): string {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
}

/**
 * Reads git metadata for `dir`, or undefined when `dir` is not inside a usable checkout.
 */
export async function detectGit(dir: string): Promise<GitInfo | undefined> {
    const topLevel = await git(dir, ["rev-parse", "--show-toplevel"]);
    if (!topLevel) return undefined;
    const commit = await git(dir, ["rev-parse", "--verify", "-q", "HEAD"]);
    if (!commit) return undefined;
    const [objectFormat, branch, ct, remote, status] = await Promise.all([
        git(dir, ["rev-parse", "--show-object-format"]),
        git(dir, ["symbolic-ref", "--short", "-q", "HEAD"]),
        git(dir, ["log", "-1", "--format=%ct", "HEAD"]),
        git(dir, ["remote", "get-url", "origin"]),
        git(dir, ["status", "--porcelain", "--untracked-files=normal", "--", "."]),
    ]);
    const tag = branch ? undefined : await git(dir, ["describe", "--tags", "--exact-match", "HEAD"]);
    const secs = Number(ct);
    const commitTime = Number.isFinite(secs) && ct ? new Date(secs * 1000).toISOString().replace(/\.\d{3}Z$/, "Z") : "1970-01-01T00:00:00Z";
    return {
        topLevel,
        commit,
        objectFormat: objectFormat || (commit.length === 64 ? "sha256" : "sha1"),
        ...(branch ? { branch } : {}),
        ...(tag ? { tag } : {}),
        commitTime,
        ...(remote ? { remoteUrl: redactRemoteUrl(remote) } : {}),
        dirty: (status ?? "") !== "",
    };
}

/** Flux's revision format: `<branch|tag>@sha1:<commit>`, or `sha1:<commit>` on a bare detached HEAD. */
export function fluxRevision(info: GitInfo): string {
    const ref = info.branch ?? info.tag;
    const id = `${info.objectFormat}:${info.commit}`;
    return ref ? `${ref}@${id}` : id;
}
