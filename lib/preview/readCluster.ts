/**
 * The thin runner of the preview's cluster read: `lib/sh/policy-status.sh` (the script the
 * EnforcementStatus Command runs too) in a child `sh`, with the kubeconfig in its environment
 * (kubectl.sh writes it to a private temporary file), its output parsed by clusterStatus.ts.
 * No Pulumi: the caller hands it plain values.
 */
import { spawn } from "node:child_process";
import { POLICY_STATUS_COMMAND, policyStatusEnvironment, type PolicyStatusOptions } from "../policyStatus";
import { parseClusterStatus, type ClusterStatus } from "./clusterStatus";

export interface ReadClusterOptions extends PolicyStatusOptions {
    /** Kubeconfig contents; undefined for the ambient kubeconfig. */
    kubeconfig?: string;
    /** The longest the whole read may take, in milliseconds. Defaults to 90 s. */
    timeoutMs?: number;
}

/** What the script printed, or an Error saying why it did not finish (kubectl missing, a timeout). */
export function runPolicyStatus(o: ReadClusterOptions): Promise<string> {
    const env = { ...process.env, ...policyStatusEnvironment(o), KUBECONFIG_DATA: o.kubeconfig ?? "" };
    return new Promise((resolve, reject) => {
        // Its own process group, so a timeout stops kubectl too (which holds the output open).
        const child = spawn("/bin/sh", ["-c", POLICY_STATUS_COMMAND], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => err.push(b));
        const timer = setTimeout(() => {
            try {
                process.kill(-child.pid!, "SIGTERM");
            } catch {
                child.kill("SIGTERM");
            }
        }, o.timeoutMs ?? 90_000);
        child.on("error", (e) => { clearTimeout(timer); reject(e); });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            if (code === 0) return resolve(Buffer.concat(out).toString("utf8"));
            const said = Buffer.concat(err).toString("utf8").trim().split("\n")[0];
            reject(new Error(signal ? `reading the cluster took longer than ${Math.round((o.timeoutMs ?? 90_000) / 1000)}s` : said || `policy-status.sh exited with ${code}`));
        });
    });
}

/** The cluster's status, read now. Rejects only when the script could not run to its end. */
export async function readClusterStatus(o: ReadClusterOptions): Promise<ClusterStatus> {
    return parseClusterStatus(await runPolicyStatus(o));
}
