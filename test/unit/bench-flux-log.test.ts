/**
 * The benchmark's reading of Flux's apply time from kustomize-controller's log (bench/support/flux-log.ts),
 * on lines in the format kustomize-controller v1.9 writes (as the harness prefixes them).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";

import { fluxApplyMs, goDurationMs } from "../../bench/support/flux-log";

const OLD = "sha256:" + "a".repeat(64);
const NEW = "sha256:" + "b".repeat(64);

function finished(duration: string, revision: string, name = "kyverno-policies"): string {
    return "kustomize-controller | " + JSON.stringify({
        level: "info", ts: "2026-11-30T22:58:33.421Z", msg: `Reconciliation finished in ${duration}, next run in 1m0s`,
        controller: "kustomization", controllerKind: "Kustomization", Kustomization: { name, namespace: "flux-system" },
        namespace: "flux-system", name, reconcileID: "6b347e0d", revision,
    });
}

describe("goDurationMs", () => {
    it("reads Go's Duration.String() forms", () => {
        assert.equal(goDurationMs("2.820139029s"), 2820.139029);
        assert.equal(goDurationMs("901.805123ms"), 901.805123);
        assert.equal(goDurationMs("1m2.5s"), 62_500);
        assert.equal(goDurationMs("1h0m0s"), 3_600_000);
        assert.equal(goDurationMs("0s"), 0);
        assert.equal(goDurationMs("12µs"), 0.012);
    });
    it("refuses what is not a duration", () => {
        for (const bad of ["", "s", "1.5", "1.5 s", "fast", "1x"]) assert.equal(goDurationMs(bad), undefined, bad);
    });
});

describe("fluxApplyMs", () => {
    const log = [
        "source-controller | " + JSON.stringify({ level: "info", msg: "stored artifact", revision: `1.1.0@${NEW}` }),
        finished("2.5s", `1.0.0@${OLD}`),
        "kustomize-controller | not json: Reconciliation finished in 9s",
        finished("7s", `1.1.0@${NEW}`, "another-kustomization"),
        finished("1.25s", `1.1.0@${NEW}`),
        finished("300ms", `1.1.0@${NEW}`),
    ].join("\n");

    it("takes the first apply of the revision with that digest, for that Kustomization", () => {
        assert.equal(fluxApplyMs(log, "kyverno-policies", NEW), 1250);
        assert.equal(fluxApplyMs(log, "kyverno-policies", OLD), 2500);
        assert.equal(fluxApplyMs(log, "another-kustomization", NEW), 7000);
    });
    it("matches a revision pinned by digest alone", () => {
        assert.equal(fluxApplyMs(finished("4s", NEW), "kyverno-policies", NEW), 4000);
    });
    it("is undefined when Flux has not logged that apply", () => {
        assert.equal(fluxApplyMs(log, "kyverno-policies", "sha256:" + "c".repeat(64)), undefined);
        assert.equal(fluxApplyMs("", "kyverno-policies", NEW), undefined);
    });
});
