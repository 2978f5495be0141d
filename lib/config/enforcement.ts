/** The `enforcement` key: what the stack does with the policies' validation failures. */
import type { EnforcementMode } from "../policies/rollout";
import { DEFAULTS } from "./defaults";
import type { ConfigReader } from "./reader";

/**
 * The stack-wide mode (lib/policies/rollout.ts): `audit` ships the policies as written, `enforce`
 * patches every validate rule to Enforce. (A policy's own action as written,
 * `Audit`/`Enforce`/`Mixed`/`None`, is the `Enforcement` of lib/policies.)
 */
export type Enforcement = EnforcementMode;

/** Every mode, in the order messages list them. */
export const ENFORCEMENTS: readonly Enforcement[] = ["audit", "enforce"];

export function parseEnforcement(reader: ConfigReader): Enforcement {
    return reader.oneOf("enforcement", ENFORCEMENTS, DEFAULTS.enforcement);
}
