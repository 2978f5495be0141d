/** A registry's unwanted answer (4xx, 5xx) as an OciError stating what was tried and what came back. */
import type { OciError } from "./errors";
import { parseWwwAuthenticate } from "./transport/challenge";
import type { HttpResponse } from "./transport/http";
import { parseRetryAfter } from "./transport/retry";
import type { Transport } from "./transport/transport";

/**
 * Turns a non-success answer into a clear, redacted OciError.
 * @param action what was attempted, e.g. `push manifest 1.0.0`
 */
export function responseError(t: Transport, res: HttpResponse, action: string): OciError {
    const { host, repository: repo } = t.target;
    let detail = "";
    try {
        const parsed = JSON.parse(res.body.toString("utf8")) as { errors?: { code?: string; message?: string }[] };
        detail = (parsed.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ");
    } catch {
        // Redact before cutting: a secret cut in half by the limit would no longer be recognised.
        detail = t.redactor.redact(res.body.toString("utf8")).trim().slice(0, 200);
    }
    const suffix = detail ? ` (${detail})` : "";
    const username = t.credential?.username;
    const facts = { status: res.status, action, username, retryAfterMs: parseRetryAfter(res.headers["retry-after"] as string | undefined) };
    if (res.status === 400 && res.url.protocol === "http:" && /HTTP request to an HTTPS server/i.test(detail)) {
        return t.fail("tls", `registry ${host} requires TLS but was spoken to in plain HTTP`, { ...facts, reason: "server-requires-tls" });
    }
    // Distribution answers 401 (not 403) when a valid token lacks the action; say so plainly
    // instead of blaming the password.
    const scopeDenied = parseWwwAuthenticate(res.headers["www-authenticate"]).some((c) => c.params.error === "insufficient_scope");
    switch (res.status) {
        case 401:
            if (scopeDenied) {
                return t.fail(
                    "forbidden",
                    `access denied by registry ${host} to repository ${repo} while trying to ${action}: the token does not grant the needed action${username ? ` to user "${username}"` : ""}${suffix}`,
                    facts,
                );
            }
            return username
                ? t.fail(
                      "auth",
                      `authentication failed for registry ${host}, repository ${repo} while trying to ${action}: the registry rejected the credentials of user "${username}"${suffix}`,
                      { ...facts, reason: "credentials-rejected" },
                  )
                : t.fail("auth", `authentication required by registry ${host}, repository ${repo} to ${action}${suffix}`, { ...facts, reason: "credentials-required" });
        case 403:
            return t.fail(
                "forbidden",
                `access denied by registry ${host} to repository ${repo} while trying to ${action}${suffix}; the account${username ? ` "${username}"` : ""} lacks permission`,
                facts,
            );
        case 404:
            return t.fail("not-found", `not found: ${action} in repository ${repo} on registry ${host}${suffix}`, facts);
        default:
            return t.fail("registry", `registry ${host} answered HTTP ${res.status} while trying to ${action} in repository ${repo}${suffix}`, facts);
    }
}
