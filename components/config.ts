import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig, SECRET_KEYS, StackConfig } from "../lib/config";

/** Whether the engine holds `fullKey` encrypted (the SDK knows, but keeps the function internal). */
function isStoredAsSecret(fullKey: string): boolean | undefined {
    const probe = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    return typeof probe === "function" ? probe(fullKey) : undefined;
}

/**
 * Reads and validates the whole stack configuration before any resource exists. Secret keys must
 * be stored encrypted; a plain-text password or kubeconfig is refused rather than quietly used.
 */
export function readStackConfig(projectDir: string = process.cwd()): StackConfig {
    const project = pulumi.getProject();
    const raw = pulumi.runtime.allConfig();
    const problems: string[] = [];
    for (const key of SECRET_KEYS) {
        const fullKey = `${project}:${key}`;
        if (raw[fullKey] !== undefined && isStoredAsSecret(fullKey) === false) {
            problems.push(`${fullKey}: stored in plain text; store it encrypted with 'pulumi config set --secret ${key} …'`);
        }
    }
    let parsed: StackConfig | undefined;
    try {
        parsed = parseStackConfig(raw, { project, stack: pulumi.getStack(), projectDir });
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        problems.push(...e.problems);
    }
    if (problems.length > 0 || parsed === undefined) throw new ConfigError(problems);
    return parsed;
}
