/** The stack-config fixtures the config tests share: a parse context, raw values, collected problems. */
import assert from "node:assert/strict";

import { ConfigError, parseStackConfig, type StackConfig } from "../../lib/config";

/** The parse context of a `dev` stack of the `policy-stack` project. */
export const ctx = { project: "policy-stack", stack: "dev", projectDir: "/project" };

/** Short key names → the engine's `policy-stack:<key>` names. */
export const cfg = (values: Record<string, string>): Record<string, string> =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [`policy-stack:${k}`, v]));

/** Parses short-named values. */
export const parse = (values: Record<string, string>): StackConfig => parseStackConfig(cfg(values), ctx);

/** Parses and returns the problems, failing if the config was accepted. Values are not quoted in the failure: they may be keys. */
export function problemsOf(values: Record<string, string>): string[] {
    try {
        parse(values);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
        return e.problems;
    }
    assert.fail(`config was accepted: ${Object.keys(values).join(", ")}`);
}
