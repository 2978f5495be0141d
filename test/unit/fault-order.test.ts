/**
 * The fault matrix's order check (test/support/fault-integrity.ts) on recorded request sequences:
 * it must fail for a client that sends a manifest before the registry confirmed its blobs.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";

import { manifestOrderViolations, type OrderRecord } from "../support/fault-integrity";

const CONFIG = `sha256:${"c".repeat(64)}`;
const LAYER = `sha256:${"1".repeat(64)}`;
const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: CONFIG, size: 10 }, layers: [{ digest: LAYER, size: 20 }] }));
const R = "/v2/faults/1";

/** A recorded sequence: each request completes before the next starts, unless `completedAfterNext`. */
function seq(...reqs: (Omit<OrderRecord, "started" | "completed" | "answered"> & { answered?: boolean; completedAfterNext?: boolean })[]): OrderRecord[] {
    let order = 0;
    const out: OrderRecord[] = [];
    let pending: OrderRecord | undefined;
    for (const r of reqs) {
        const rec: OrderRecord = { ...r, answered: r.answered ?? r.status !== undefined, started: order++ };
        if (pending) pending.completed = order++;
        pending = undefined;
        if (r.completedAfterNext) pending = rec;
        else rec.completed = order++;
        out.push(rec);
    }
    if (pending) pending.completed = order++;
    return out;
}
const upload = (digest: string, status = 201) => ({ method: "PUT", path: `${R}/blobs/uploads/u-${digest.slice(7, 11)}?_state=x&digest=${encodeURIComponent(digest)}`, status });
const manifestPut = (status = 201) => ({ method: "PUT", path: `${R}/manifests/v1`, status, body: MANIFEST });

describe("fault matrix order check: no manifest PUT before its blobs", () => {
    it("accepts blobs uploaded (201) or found (HEAD 200, mount 201) before the manifest PUT", () => {
        assert.deepEqual(manifestOrderViolations(seq({ method: "POST", path: `${R}/blobs/uploads/`, status: 202 }, upload(CONFIG), upload(LAYER), manifestPut())), []);
        assert.deepEqual(manifestOrderViolations(seq({ method: "HEAD", path: `${R}/blobs/${CONFIG}`, status: 200 }, { method: "POST", path: `${R}/blobs/uploads/?mount=${LAYER}&from=other`, status: 201 }, manifestPut())), []);
    });

    it("fails when the manifest is sent first", () => {
        const problems = manifestOrderViolations(seq(manifestPut(400), upload(CONFIG), upload(LAYER), manifestPut()));
        assert.equal(problems.length, 2, problems.join("\n"));
        assert.match(problems[0]!, /^manifest PUT \/v2\/faults\/1\/manifests\/v1 \(started at 0\): blob sha256:c{64} was not confirmed before it \(confirmed only at \d+, by PUT /);
        assert.match(problems[1]!, /blob sha256:1{64} was not confirmed before it/);
    });

    it("fails when a blob upload is still in flight as the manifest PUT starts", () => {
        const problems = manifestOrderViolations(seq(upload(CONFIG), { ...upload(LAYER), completedAfterNext: true }, manifestPut()));
        assert.equal(problems.length, 1, problems.join("\n"));
        assert.match(problems[0]!, /blob sha256:1{64} was not confirmed before it \(confirmed only at/);
    });

    it("fails when the upload failed, was cut off, or went to another repository", () => {
        assert.equal(manifestOrderViolations(seq(upload(CONFIG), upload(LAYER, 500), manifestPut())).length, 1);
        assert.equal(manifestOrderViolations(seq(upload(CONFIG), { ...upload(LAYER), answered: false }, manifestPut())).length, 1);
        assert.equal(manifestOrderViolations(seq(upload(CONFIG), { ...upload(LAYER), path: upload(LAYER).path.replace("faults/1", "faults/2") }, manifestPut())).length, 1);
        assert.equal(manifestOrderViolations(seq(upload(CONFIG), { method: "HEAD", path: `${R}/blobs/${LAYER}`, status: 404 }, manifestPut())).length, 1);
    });

    it("fails when the manifest body was not recorded", () => {
        const problems = manifestOrderViolations(seq(upload(CONFIG), upload(LAYER), { ...manifestPut(), body: undefined }));
        assert.deepEqual(problems, ["manifest PUT /v2/faults/1/manifests/v1 (started at 4): body was not recorded or is not JSON, so its blobs cannot be checked"]);
    });
});
