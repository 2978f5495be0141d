/**
 * The `enforcement` key's rollout map and the `enforcementGate` key: shapes accepted, every shape
 * error naming the key and the fix, and unknown policy names listing the known ones.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkEnforcementPlan, ConfigError, DEFAULTS } from "../../lib/config";
import { parse, problemsOf } from "../support/stackConfig";


describe("enforcement: a stack-wide mode or a rollout map", () => {
    test("the strings stay as they were", () => {
        assert.equal(parse({}).enforcement, "audit");
        assert.equal(parse({ enforcement: "enforce" }).enforcement, "enforce");
    });

    test("a Pulumi config object (JSON in the program) becomes a plan; default is audit when unset, lists empty", () => {
        assert.deepEqual(parse({ enforcement: JSON.stringify({ default: "enforce", audit: ["require-team-label"] }) }).enforcement,
            { default: "enforce", enforce: [], audit: ["require-team-label"] });
        assert.deepEqual(parse({ enforcement: JSON.stringify({ enforce: ["disallow-latest-tag", "team-a/require-labels"] }) }).enforcement,
            { default: "audit", enforce: ["disallow-latest-tag", "team-a/require-labels"], audit: [] });
    });

    const cases: { name: string; value: unknown; expect: RegExp }[] = [
        { name: "a default that is no mode", value: { default: "strict" }, expect: /policy-stack:enforcement\.default = "strict": must be one of audit \| enforce \(set it with 'pulumi config set --path enforcement\.default audit'\)/ },
        { name: "a list that is a string", value: { enforce: "disallow-latest-tag" }, expect: /policy-stack:enforcement\.enforce: must be a list of policy names.*'pulumi config set --path 'enforcement\.enforce\[0\]' <name>'/ },
        { name: "a list with a number", value: { audit: ["a", 3] }, expect: /policy-stack:enforcement\.audit: must be a list of policy names/ },
        { name: "an unknown field", value: { default: "audit", enforced: ["a"] }, expect: /policy-stack:enforcement\.enforced: unknown field; a rollout map takes default, enforce, audit \(remove it with 'pulumi config rm --path enforcement\.enforced'\)/ },
        { name: "a list at the top", value: ["a"], expect: /policy-stack:enforcement = .*must be one of audit \| enforce/ },
    ];
    for (const c of cases) {
        test(c.name, () => {
            const problems = problemsOf({ enforcement: JSON.stringify(c.value) });
            assert.ok(problems.some((p) => c.expect.test(p)), `no problem matches ${c.expect}:\n${problems.join("\n")}`);
        });
    }

    test("a map that is no JSON names the key and how to write it", () => {
        assert.match(problemsOf({ enforcement: "{default: audit" })[0], /policy-stack:enforcement: not a valid map; write it in Pulumi\.<stack>\.yaml as/);
    });

    test("map problems come with the others, all at once", () => {
        assert.equal(problemsOf({ enforcement: JSON.stringify({ default: "x", enforce: 1 }), enforcementGate: "strict" }).length, 3);
    });
});

describe("enforcementGate", () => {
    test("warn by default; block accepted; anything else refused with the fix", () => {
        assert.equal(parse({}).enforcementGate, "warn");
        assert.equal(DEFAULTS.enforcementGate, "warn");
        assert.equal(parse({ enforcementGate: "block" }).enforcementGate, "block");
        assert.match(problemsOf({ enforcementGate: "deny" })[0], /policy-stack:enforcementGate = "deny": must be one of warn \| block/);
    });
});

describe("checkEnforcementPlan: names checked against the loaded policies", () => {
    const policies = [{ name: "disallow-latest-tag" }, { name: "require-labels", namespace: "team-a" }];
    test("a mode or a sound plan passes", () => {
        checkEnforcementPlan("enforce", []);
        checkEnforcementPlan({ default: "audit", enforce: ["disallow-latest-tag"], audit: ["team-a/require-labels"] }, policies);
    });
    test("an unknown name is a ConfigError listing the known ones", () => {
        assert.throws(() => checkEnforcementPlan({ default: "audit", enforce: ["disallow-latest"], audit: [] }, policies, "policy-stack:enforcement"),
            (e: unknown) => e instanceof ConfigError && e.problems.length === 1 &&
                /policy-stack:enforcement\.enforce names "disallow-latest", which is not in the artifact; known policies: disallow-latest-tag, team-a\/require-labels/.test(e.problems[0]));
    });
});
