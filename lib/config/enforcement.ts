/** The `enforcement` and `enforcementGate` keys: what the stack does with the policies' validation failures. */
import { isPlan, planProblems, type EnforcementMode, type EnforcementPlan, type EnforcementSetting, type NamedPolicy } from "../policies/rollout";
import { DEFAULTS } from "./defaults";
import { ConfigError, type ConfigReader } from "./reader";

/**
 * The stack-wide mode (lib/policies/rollout.ts): `audit` ships the policies as written, `enforce`
 * patches every validate rule to Enforce. (A policy's own action as written,
 * `Audit`/`Enforce`/`Mixed`/`None`, is the `Enforcement` of lib/policies.)
 */
export type Enforcement = EnforcementMode;
export type { EnforcementPlan, EnforcementSetting };

/** Every mode, in the order messages list them. */
export const ENFORCEMENTS: readonly Enforcement[] = ["audit", "enforce"];

/**
 * What a preview does when policies about to enforce fail existing resources (Kyverno's
 * PolicyReports): `warn` lists them, `block` fails the preview and the update, naming them.
 */
export type EnforcementGate = "warn" | "block";
export const ENFORCEMENT_GATES: readonly EnforcementGate[] = ["warn", "block"];

const PLAN_FIELDS = ["default", "enforce", "audit"] as const;

/**
 * `enforcement`: `audit`, `enforce`, or a rollout map (a Pulumi config object, which reaches the
 * program as JSON): `default` (`audit` unless set) plus the policy names to `enforce` and to
 * `audit` whatever the default. Whether the names exist is checked once the policies are loaded
 * (`checkEnforcementPlan`).
 */
export function parseEnforcement(reader: ConfigReader): EnforcementSetting {
    const raw = reader.str("enforcement");
    if (raw === undefined || !raw.trimStart().startsWith("{")) return reader.oneOf("enforcement", ENFORCEMENTS, DEFAULTS.enforcement);
    const key = `${reader.prefix}enforcement`;
    let value: unknown;
    try {
        value = JSON.parse(raw);
    } catch {
        reader.problem(`${key}: not a valid map; write it in Pulumi.<stack>.yaml as { default: audit, enforce: [name, …] } or set it with 'pulumi config set --path enforcement.default audit'`);
        return DEFAULTS.enforcement;
    }
    const map = value as Record<string, unknown>;
    const before = reader.problems.length;
    for (const field of Object.keys(map)) {
        if (!(PLAN_FIELDS as readonly string[]).includes(field)) {
            reader.problem(`${key}.${field}: unknown field; a rollout map takes ${PLAN_FIELDS.join(", ")} (remove it with 'pulumi config rm --path enforcement.${field}')`);
        }
    }
    const mode = map.default ?? DEFAULTS.enforcement;
    if (!(ENFORCEMENTS as readonly unknown[]).includes(mode)) {
        reader.problem(`${key}.default = ${JSON.stringify(mode)}: must be one of ${ENFORCEMENTS.join(" | ")} (set it with 'pulumi config set --path enforcement.default audit')`);
    }
    const names = (field: "enforce" | "audit"): string[] => {
        const list = map[field] ?? [];
        if (Array.isArray(list) && list.every((n) => typeof n === "string" && n !== "")) return list as string[];
        reader.problem(`${key}.${field}: must be a list of policy names, a namespaced one as namespace/name ` +
            `(set one with 'pulumi config set --path 'enforcement.${field}[0]' <name>')`);
        return [];
    };
    const plan: EnforcementPlan = { default: mode as Enforcement, enforce: names("enforce"), audit: names("audit") };
    return reader.problems.length === before ? plan : DEFAULTS.enforcement;
}

export function parseEnforcementGate(reader: ConfigReader): EnforcementGate {
    return reader.oneOf("enforcementGate", ENFORCEMENT_GATES, DEFAULTS.enforcementGate);
}

/**
 * Fails with a ConfigError when a rollout map names a policy the artifact does not hold (listing
 * the known ones) or names one under both lists. Run once the policy directory is loaded, before
 * anything is created.
 * @param key how messages name the setting, e.g. `policy-stack:enforcement`.
 */
export function checkEnforcementPlan(setting: EnforcementSetting, policies: readonly NamedPolicy[], key = "enforcement"): void {
    if (!isPlan(setting)) return;
    const problems = planProblems(setting, policies, key);
    if (problems.length > 0) throw new ConfigError(problems);
}
