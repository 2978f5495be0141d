/**
 * Two pushes of different content to the same tag at once, against the real registry.
 *
 * What is guaranteed: the tag ends pointing at one of the two manifests, with every blob present;
 * with force both pushes succeed (last writer wins). Without force, pushImage looks at the tag
 * again right before its manifest PUT, so a push that finds the tag set by the other one while it
 * uploaded is refused with a tag-conflict error and moves nothing.
 *
 * What is not: Distribution has no compare-and-swap on tags (no If-Match on manifest PUT), so two
 * pushes that both pass that re-check before either PUT lands both succeed and the later PUT wins.
 * Two identical pushes started at the same instant on loopback run in lock step and usually do
 * exactly that (the free-running rounds record how often); the re-check catches a push that started
 * later or uploads slower than the one that tags first. The last scenario forces the window open.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import type { BuiltArtifact } from "../../lib/artifact";
import { OciError, pushImage, type PushImageOptions, type PushResult } from "../../lib/oci";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy";
import { formatTable, tagIntegrity } from "../support/fault-integrity";
import { buildSample, changedSampleCopy, layersOf } from "../support/registry-artifact";
import { startRegistry, type RegistryHandle } from "../harness/registry";

const ROUNDS = 6;

describe("hardening: concurrent pushes to one tag", () => {
    let reg: RegistryHandle;
    let proxy: FaultProxy;
    let a: BuiltArtifact;
    let b: BuiltArtifact;
    let changedDir: string;
    let repoNo = 0;
    const table: string[][] = [];

    const opts = (who: "A" | "B", built: BuiltArtifact, repo: string, force: boolean): PushImageOptions => ({
        url: proxy.url(repo),
        tag: "1.0.0",
        manifest: built.manifest,
        config: built.config,
        configDescriptor: built.configDescriptor,
        layers: layersOf(built),
        force,
        userAgent: `hardening-push-${who}`,
        retry: { baseDelayMs: 20, maxDelayMs: 100 },
    });
    const settle = (p: Promise<PushResult>) => p.then((r) => ({ ok: true as const, r }), (e: unknown) => ({ ok: false as const, e }));
    const name = (d?: string) => (d === a.manifestDigest ? "A" : d === b.manifestDigest ? "B" : String(d));
    const show = (s: Awaited<ReturnType<typeof settle>>) => (s.ok ? "pushed" : `refused (${s.e instanceof OciError ? s.e.code : String(s.e)})`);

    /** The tag is complete and points at A or B; returns which. */
    async function tagIsOneOfBoth(repo: string): Promise<"A" | "B"> {
        const t = await tagIntegrity(reg, repo, "1.0.0");
        assert.equal(t.state, "complete", `tag state: ${JSON.stringify(t)}`);
        const who = name(t.digest);
        assert.ok(who === "A" || who === "B", `tag points at neither push: ${t.digest}`);
        return who as "A" | "B";
    }

    function assertConflict(e: unknown, winner: BuiltArtifact): void {
        assert.ok(e instanceof OciError && e.code === "tag-conflict", `expected a tag-conflict, got ${String(e)}`);
        assert.match(e.message, /tag "1\.0\.0" in oci:\/\/127\.0\.0\.1:\d+\/concurrent\/\d+ (already points at|was set to) sha256:[a-f0-9]{64}/);
        assert.equal(e.reason, "tag-exists", "the caller words the way out (--force, forcePush)");
        assert.ok(e.message.includes(winner.manifestDigest), e.message);
    }

    before(async () => {
        reg = await startRegistry({ mode: "anonymous" });
        proxy = await startFaultProxy({ upstream: reg.baseUrl });
        a = await buildSample();
        changedDir = changedSampleCopy();
        b = await buildSample(changedDir);
        assert.notEqual(a.manifestDigest, b.manifestDigest);
    });
    after(async () => {
        if (table.length) {
            console.log(`\nConcurrent pushes of A and B to one tag\n${formatTable(["scenario", "A", "B", "tag ends at", "note"], table)}\n`);
        }
        await proxy?.stop();
        await reg?.stop();
        for (const x of [a, b]) if (x) fs.rmSync(path.dirname(x.layer.path), { recursive: true, force: true });
        if (changedDir) fs.rmSync(changedDir, { recursive: true, force: true });
    });

    it(`force, ${ROUNDS} rounds: both succeed, the tag ends at one complete artifact`, async () => {
        const ends = { A: 0, B: 0 };
        for (let i = 0; i < ROUNDS; i++) {
            const repo = `concurrent/${++repoNo}`;
            const [ra, rb] = await Promise.all([settle(pushImage(opts("A", a, repo, true))), settle(pushImage(opts("B", b, repo, true)))]);
            assert.ok(ra.ok && rb.ok, `force pushes must both succeed: ${show(ra)}, ${show(rb)}`);
            ends[await tagIsOneOfBoth(repo)]++;
        }
        table.push([`force, ${ROUNDS} free-running rounds`, "pushed ×" + ROUNDS, "pushed ×" + ROUNDS, `A ×${ends.A}, B ×${ends.B}`, "last writer wins"]);
    });

    it(`no force, ${ROUNDS} free-running rounds: a loser is refused with tag-conflict, or both see no tag and one wins`, async () => {
        const counts = { oneRefused: 0, bothPushed: 0 };
        const ends = { A: 0, B: 0 };
        for (let i = 0; i < ROUNDS; i++) {
            const repo = `concurrent/${++repoNo}`;
            const [ra, rb] = await Promise.all([settle(pushImage(opts("A", a, repo, false))), settle(pushImage(opts("B", b, repo, false)))]);
            const winner = await tagIsOneOfBoth(repo);
            ends[winner]++;
            assert.ok(ra.ok || rb.ok, "at least one push succeeds");
            if (ra.ok && rb.ok) {
                counts.bothPushed++;
            } else {
                counts.oneRefused++;
                const loser = ra.ok ? rb : ra;
                assert.equal(winner, ra.ok ? "A" : "B", "the tag points at the push that succeeded");
                assertConflict((loser as { e: unknown }).e, winner === "A" ? a : b);
            }
        }
        table.push([
            `no force, ${ROUNDS} free-running rounds`,
            "-",
            "-",
            `A ×${ends.A}, B ×${ends.B}`,
            `one refused ×${counts.oneRefused}, both pushed (race window) ×${counts.bothPushed}`,
        ]);
    });

    it("no force: B uploads slowly, A tags first → B's re-check refuses B, the tag stays at A", async () => {
        const repo = `concurrent/${++repoNo}`;
        let releaseB!: () => void;
        const aFinished = new Promise<void>((r) => (releaseB = r));
        // B's first blob HEAD waits until A has finished: B saw no tag at its start, A tags meanwhile.
        proxy.setRules([{ userAgent: "hardening-push-B", method: "HEAD", kind: "blob", times: 1, fault: { kind: "hold", until: aFinished } }]);
        proxy.reset();
        try {
            const pa = settle(pushImage(opts("A", a, repo, false))).finally(releaseB);
            const pb = settle(pushImage(opts("B", b, repo, false)));
            const [ra, rb] = await Promise.all([pa, pb]);
            const order = proxy.entries.map((e) => `${e.userAgent.slice(-1)} ${e.method} ${e.kind} ${e.status}`);
            const bFirstHead = order.indexOf("B HEAD manifest 404");
            const aPut = order.indexOf("A PUT manifest 201");
            assert.ok(bFirstHead >= 0 && aPut > bFirstHead, `precondition: B found no tag before A tagged: ${order.join(", ")}`);
            assert.ok(ra.ok, `A: ${show(ra)}`);
            assert.ok(!rb.ok, "B must be refused");
            assertConflict(rb.e, a);
            assert.match((rb.e as Error).message, /was set to .* by another push while this one uploaded/);
            assert.equal(proxy.entries.filter((e) => e.userAgent.endsWith("B") && e.method === "PUT" && e.kind === "manifest").length, 0, "B never PUT its manifest");
            assert.equal(await tagIsOneOfBoth(repo), "A");
            table.push(["no force, A tags while B uploads", show(ra), show(rb), "A", "re-check before the manifest PUT"]);
        } finally {
            proxy.setRules([]);
        }
    });

    it("force: the same interleaving moves the tag to B", async () => {
        const repo = `concurrent/${++repoNo}`;
        let releaseB!: () => void;
        const aFinished = new Promise<void>((r) => (releaseB = r));
        proxy.setRules([{ userAgent: "hardening-push-B", method: "HEAD", kind: "blob", times: 1, fault: { kind: "hold", until: aFinished } }]);
        try {
            const pa = settle(pushImage(opts("A", a, repo, false))).finally(releaseB);
            const pb = settle(pushImage(opts("B", b, repo, true)));
            const [ra, rb] = await Promise.all([pa, pb]);
            assert.ok(ra.ok && rb.ok, `${show(ra)}, ${show(rb)}`);
            assert.equal(await tagIsOneOfBoth(repo), "B");
            table.push(["A (no force) tags while B (force) uploads", show(ra), show(rb), "B", "force moves the tag"]);
        } finally {
            proxy.setRules([]);
        }
    });

    it("no force, the residual window: both pass the re-check before either PUT → both succeed, the later PUT wins", async () => {
        const repo = `concurrent/${++repoNo}`;
        // Hold both manifest PUTs until each push has made its re-check (its 2nd tag HEAD); then let
        // A's through, and B's a moment later.
        const heads = { A: 0, B: 0 };
        let bothChecked!: () => void;
        const checked = new Promise<void>((r) => (bothChecked = r));
        const aLanded = checked.then(() => new Promise<void>((r) => setTimeout(r, 300)));
        proxy.setRules([
            {
                method: "HEAD",
                kind: "manifest",
                when: (r) => {
                    heads[r.userAgent.endsWith("A") ? "A" : "B"]++;
                    if (heads.A >= 2 && heads.B >= 2) bothChecked();
                    return false;
                },
                fault: { kind: "forward" },
            },
            { userAgent: "hardening-push-A", method: "PUT", kind: "manifest", times: 1, fault: { kind: "hold", until: checked } },
            { userAgent: "hardening-push-B", method: "PUT", kind: "manifest", times: 1, fault: { kind: "hold", until: aLanded } },
        ]);
        try {
            const [ra, rb] = await Promise.all([settle(pushImage(opts("A", a, repo, false))), settle(pushImage(opts("B", b, repo, false)))]);
            assert.ok(ra.ok && rb.ok, `both pass the re-check, both PUT: ${show(ra)}, ${show(rb)}`);
            assert.equal(await tagIsOneOfBoth(repo), "B", "the later PUT wins; A reported success but was overwritten");
            table.push(["no force, both re-check before either PUT (forced)", show(ra), show(rb), "B", "residual race: no tag compare-and-swap in the registry API"]);
        } finally {
            proxy.setRules([]);
        }
    });
});
