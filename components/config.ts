import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig, SECRET_KEYS, StackConfig } from "../lib/config";

/** Whether the engine holds `fullKey` encrypted (the SDK knows, but keeps the function internal). */
function isStoredAsSecret(fullKey: string): boolean | undefined {
    const probe = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    return typeof probe === "function" ? probe(fullKey) : undefined;
}

export interface ReadStackConfigOptions {
    /**
     * The config namespace of the keys. Another program that creates a PolicyStack sets them as
     * `policy-stack:<key>` and passes `"policy-stack"`. Defaults to the project's name.
     */
    namespace?: string;
    /** Directory relative paths in config start at. Defaults to the working directory (the project's). */
    projectDir?: string;
}

/**
 * Reads and validates the whole stack configuration before any resource exists. Secret keys must
 * be stored encrypted; a plain-text password or kubeconfig is refused rather than quietly used.
 */
export function readStackConfig(options: ReadStackConfigOptions = {}): StackConfig {
    const namespace = options.namespace ?? pulumi.getProject();
    const raw = pulumi.runtime.allConfig();
    const problems: string[] = [];
    for (const key of SECRET_KEYS) {
        const fullKey = `${namespace}:${key}`;
        if (raw[fullKey] !== undefined && isStoredAsSecret(fullKey) === false) {
            // Keys of the project's own namespace are set without it.
            const setKey = namespace === pulumi.getProject() ? key : fullKey;
            problems.push(`${fullKey}: stored in plain text; store it encrypted with 'pulumi config set --secret ${setKey} …'`);
        }
    }
    let parsed: StackConfig | undefined;
    try {
        parsed = parseStackConfig(raw, { project: namespace, stack: pulumi.getStack(), projectDir: options.projectDir ?? process.cwd() });
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        problems.push(...e.problems);
    }
    if (problems.length > 0 || parsed === undefined) throw new ConfigError(problems);
    return parsed;
}
