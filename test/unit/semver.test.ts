import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { checkTagAgainstRange, parseFluxRange, parseFluxVersion } from "../../lib/semver";

describe("checkTagAgainstRange (Flux / Masterminds semantics)", () => {
    const ok: [string, string, string][] = [
        ["1.2.3", "^1.0.0", "1.2.3"],
        ["v1.2.3", "^1.0", "1.2.3"],
        ["v2025.02.03", "2025.x", "2025.2.3"],
        ["1.5.0", ">= 1.2, < 2.0", "1.5.0"],
        ["1.5.0", ">=1.2.0 <2.0.0", "1.5.0"],
        ["3.0.0", "^1 || ^3", "3.0.0"],
        ["1.2.4", "!=1.2.3", "1.2.4"],
        ["1.0.9", "~>1.0", "1.0.9"],
        ["1.1.0", "1.0 - 1.2", "1.1.0"],
        ["1.2.3", "=>1.2.3", "1.2.3"],
        ["1.2.3-rc.1", ">=1.2.3-0", "1.2.3-rc.1"],
        ["0.0.1", "*", "0.0.1"],
    ];
    for (const [tag, range, norm] of ok) {
        test(`${tag} satisfies ${range}`, () => assert.equal(checkTagAgainstRange(tag, range), norm));
    }

    const bad: [string, string, RegExp][] = [
        ["1.2", "*", /tag "1\.2" is not a semantic version: Flux needs MAJOR\.MINOR\.PATCH/],
        ["latest", "*", /tag "latest" is not a semantic version/],
        ["1.2.3.4", "*", /tag "1\.2\.3\.4" is not a semantic version/],
        ["1.2.3-rc.01", "*", /leading zeros/],
        ["1.0.0+build", "*", /not a valid OCI tag \(OCI tags cannot contain "\+"/],
        ["-1.0.0", "*", /not a valid OCI tag/],
        ["1.0.0", "", /semver range is empty/],
        ["1.0.0", "bogus", /semver range "bogus": "bogus" is not a valid constraint/],
        ["1.0.0", "^1 ||", /empty alternative around "\|\|"/],
        ["1.0.0", "!=abc", /"!=abc" is not a valid comparator/],
        ["2.0.0", "^1.0.0", /tag "2\.0\.0" \(version 2\.0\.0\) does not satisfy the semver range "\^1\.0\.0"; choose a tag inside the range or widen the range/],
        ["1.2.3", "!=1.2.3", /does not satisfy/],
        ["1.2.3-rc.1", ">=1.0.0", /prerelease tags match only ranges that name a prerelease/],
    ];
    for (const [tag, range, re] of bad) {
        test(`${JSON.stringify(tag)} vs ${JSON.stringify(range)} is rejected`, () => assert.throws(() => checkTagAgainstRange(tag, range), re));
    }

    test("parsers expose the normalised pieces", () => {
        assert.equal(parseFluxVersion("v01.002.0003-alpha.1").version, "1.2.3-alpha.1");
        assert.equal(parseFluxRange(">=1, <2 || 3.x").groups.length, 2);
    });
});
