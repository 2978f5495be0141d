/** The transport's pieces on their own: the retry policy, the token cache and scopes, failures without an answer. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { OciError } from "../../lib/oci/errors";
import { describeNoAnswer } from "../../lib/oci/transport/failures";
import { isTransient, RetryPolicy } from "../../lib/oci/transport/retry";
import { repositoryScope, scopeCovers, TokenCache } from "../../lib/oci/transport/tokens";

const errno = (code: string, message = code) => Object.assign(new Error(message), { code }) as NodeJS.ErrnoException;

describe("retry policy", () => {
    test("transient: dropped or stalled connections, 408, 429 and 5xx gateways; not refusals, DNS, 4xx or 501", () => {
        for (const f of [{ errno: "ECONNRESET" }, { errno: "OCI_IDLE_TIMEOUT" }, { errno: "EPIPE" }, { status: 408 }, { status: 429 }, { status: 500 }, { status: 503 }]) {
            assert.ok(isTransient(f), JSON.stringify(f));
        }
        for (const f of [{ errno: "ECONNREFUSED" }, { errno: "ENOTFOUND" }, { status: 401 }, { status: 404 }, { status: 501 }, {}]) {
            assert.ok(!isTransient(f), JSON.stringify(f));
        }
    });

    test("delays: exponential with jitter up to the ceiling, Retry-After up to its limit, nothing after the last attempt", () => {
        const p = new RetryPolicy({ attempts: 4, baseDelayMs: 100, maxDelayMs: 300, maxRetryAfterMs: 2000 });
        for (let i = 0; i < 20; i++) {
            const d1 = p.delayAfter({ status: 503 }, 1)!;
            const d3 = p.delayAfter({ status: 503 }, 3)!;
            assert.ok(d1 >= 50 && d1 <= 100, `first delay ${d1}`);
            assert.ok(d3 >= 150 && d3 <= 300, `capped delay ${d3}`);
        }
        assert.equal(p.delayAfter({ status: 429, retryAfterMs: 1500 }, 1), 1500);
        assert.equal(p.delayAfter({ status: 429, retryAfterMs: 2500 }, 1), undefined, "longer than allowed: give up instead of hanging");
        assert.equal(p.delayAfter({ status: 503 }, 4), undefined, "attempts spent");
        assert.equal(p.delayAfter({ status: 404 }, 1), undefined, "not transient");
    });

    test("run: retries thrown transient OciErrors and transient answers, counts each retry, gives up with the last outcome", async () => {
        const counters = { retries: 0 };
        const p = new RetryPolicy({ attempts: 3, baseDelayMs: 1 }, counters);
        let calls = 0;
        const value = await p.run(async (attempt) => {
            calls++;
            if (attempt < 3) throw new OciError("network", "reset", { errno: "ECONNRESET" });
            return "ok";
        });
        assert.deepEqual([value, calls, counters.retries], ["ok", 3, 2]);

        calls = 0;
        const last = await p.run(async () => ({ status: 503, n: ++calls }), (r) => ({ status: r.status }));
        assert.deepEqual(last, { status: 503, n: 3 }, "the last answer is returned for the caller to map");

        calls = 0;
        await assert.rejects(
            p.run(async () => {
                calls++;
                throw new OciError("auth", "refused", { status: 401 });
            }),
            /refused/,
        );
        assert.equal(calls, 1, "a refusal is not retried");

        calls = 0;
        await assert.rejects(
            p.run(async () => {
                calls++;
                throw new Error("a bug, not the network");
            }),
        );
        assert.equal(calls, 1, "only OciErrors are judged transient");
    });
});

describe("tokens", () => {
    test("a push token serves pulls; tokens expire five seconds early; dropping forgets both", () => {
        const cache = new TokenCache();
        const now = 1_000_000;
        const pull = [repositoryScope("team/policies", false)];
        const push = [repositoryScope("team/policies", true)];
        cache.set(push, "push-token", now + 60_000);
        assert.equal(cache.get(pull, now), "push-token");
        assert.equal(cache.get(push, now + 56_000), undefined, "inside the margin");
        cache.set(pull, "pull-token", now + 60_000);
        assert.equal(cache.get(pull, now), "pull-token");
        cache.drop(pull);
        assert.equal(cache.get(pull, now), undefined);
        assert.equal(cache.get(push, now), undefined);
    });

    test("scopeCovers: same resource, every wanted action (or *)", () => {
        assert.ok(scopeCovers("repository:a:pull,push", "repository:a:pull"));
        assert.ok(scopeCovers("repository:a:*", "repository:a:delete"));
        assert.ok(!scopeCovers("repository:a:pull", "repository:a:pull,push"));
        assert.ok(!scopeCovers("repository:a:pull,push", "repository:b:pull"));
        assert.ok(!scopeCovers(undefined, "repository:a:pull"));
    });
});

describe("failures without an answer", () => {
    const url = new URL("https://registry.example:5000/v2/team/policies/manifests/1.0.0");
    const cases: [NodeJS.ErrnoException, URL, string, string | undefined, RegExp][] = [
        [errno("OCI_IDLE_TIMEOUT", "no data for 400 ms (stalled connection)"), url, "timeout", undefined, /: no data for 400 ms \(stalled connection\), after 2 attempt\(s\)$/],
        [errno("EPROTO", "wrong version number"), url, "tls", "server-not-tls", /the registry does not speak TLS$/],
        [errno("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate"), url, "tls", "tls-failed", /^TLS error talking to registry r:5000 \(GET \/v2\/.*\)$/],
        [errno("HPE_INVALID_CONSTANT", "Parse Error"), new URL("http://r:5000/v2/x/manifests/1"), "tls", "server-requires-tls", /it probably requires TLS$/],
        [errno("ECONNREFUSED"), url, "network", undefined, /connection refused; is the registry running at registry\.example:5000\?$/],
        [errno("ENOTFOUND"), url, "network", undefined, /^cannot resolve registry host registry\.example$/],
        [errno("ECONNRESET", "socket hang up"), url, "network", undefined, /failed after 2 attempt\(s\): socket hang up \(ECONNRESET\)$/],
    ];
    for (const [e, u, code, reason, message] of cases) {
        test(`${e.code} → ${code}${reason ? ` (${reason})` : ""}`, () => {
            const d = describeNoAnswer(e, "r:5000", "GET", u, 2);
            assert.equal(d.code, code);
            assert.equal(d.reason, reason);
            assert.match(d.message, message);
        });
    }
});
