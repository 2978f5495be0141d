/**
 * Authentication for one registry: which `Authorization` a request carries, and what to do with a
 * 401's challenge. The schemes live here and nowhere else: Basic (the credential on every
 * request) and Bearer (a token from the realm the challenge names, fetched with the credential
 * and cached per scope). A new scheme is one more case in `onChallenge` and `authorization`.
 */
import type { Credential } from "../credentials";
import type { OciError, OciErrorCode, OciErrorDetails } from "../errors";
import { parseWwwAuthenticate, type Challenge } from "./challenge";
import type { HttpResponse } from "./http";
import type { Redactor } from "./redact";
import { scopeCovers, TokenCache } from "./tokens";

/** Basic `Authorization` header value for a credential. */
export function basicHeader(c: Credential): string {
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
}

/** What one logical request has tried so far (several HTTP exchanges when challenged). */
export interface AuthAttempt {
    tries: number;
    /** The Authorization used in the last exchange came from a token fetched during this request. */
    fresh: boolean;
    used?: string;
    /** Scopes a challenge asked for beyond the operation's own. */
    extraScopes: string[];
}

/** What the authenticator needs from the transport it serves. */
export interface AuthContext {
    host: string;
    repository?: string;
    credential?: Credential;
    /** Plain HTTP was asked for explicitly: a plain-HTTP token service is then acceptable too. */
    insecure?: boolean;
    redactor: Redactor;
    /** GET from the token service (no auth handling, no retry beyond the transport's own). */
    fetch(url: URL, authorization: string | undefined): Promise<HttpResponse>;
    fail(code: OciErrorCode, message: string, details?: OciErrorDetails): OciError;
}

export class Authenticator {
    private basic = false;
    private bearer?: { realm: string; service?: string };
    private readonly tokens = new TokenCache();

    constructor(private readonly c: AuthContext) {}

    newAttempt(): AuthAttempt {
        return { tries: 0, fresh: false, extraScopes: [] };
    }

    /** Authorization header for a registry request, fetching a token up front when the realm is known. */
    async authorization(scope: string | undefined, a: AuthAttempt): Promise<string | undefined> {
        const creds = this.c.credential;
        if (this.basic && creds) return basicHeader(creds);
        if (!this.bearer) return undefined;
        const scopes = [...new Set([...(scope ? [scope] : []), ...a.extraScopes])];
        const cached = this.tokens.get(scopes);
        if (cached) {
            a.fresh = false;
            return `Bearer ${cached}`;
        }
        const token = await this.fetchToken(this.bearer, scopes);
        a.fresh = true;
        return `Bearer ${token}`;
    }

    /** Reacts to a 401: learn the scheme, drop a stale token. Returns true when another exchange makes sense. */
    onChallenge(res: HttpResponse, scope: string | undefined, a: AuthAttempt): boolean {
        if (a.tries >= 2) return false;
        const challenges = parseWwwAuthenticate(res.headers["www-authenticate"]);
        const bearer = challenges.find((c: Challenge) => c.scheme === "bearer");
        const basic = challenges.find((c: Challenge) => c.scheme === "basic");
        if (bearer && bearer.params.realm) {
            // A token fetched during this very request was refused: wrong rights, not staleness.
            if (a.used?.startsWith("Bearer ") && a.fresh) return false;
            const scopes = [...new Set([...(scope ? [scope] : []), ...a.extraScopes])];
            if (a.used?.startsWith("Bearer ")) this.tokens.drop(scopes);
            // The challenge may name a scope our operation scope does not cover (another repository
            // for a mount, a registry:catalog); ask for both in one token.
            const challengeScope = bearer.params.scope;
            if (challengeScope && !scopeCovers(scope, challengeScope) && !a.extraScopes.includes(challengeScope)) {
                a.extraScopes.push(challengeScope);
            }
            this.bearer = { realm: bearer.params.realm, service: bearer.params.service };
            a.tries++;
            return true;
        }
        if (basic) {
            if (!this.c.credential || a.used?.startsWith("Basic ")) return false;
            this.basic = true;
            a.tries++;
            return true;
        }
        return false;
    }

    /** GET the Bearer realm with the credential and cache the token per scope. */
    private async fetchToken(b: { realm: string; service?: string }, scopes: string[]): Promise<string> {
        const { host, repository, credential: creds, redactor } = this.c;
        let realm: URL;
        try {
            realm = new URL(b.realm);
        } catch {
            throw this.c.fail("auth", `registry ${host} sent an invalid token realm "${b.realm}"`);
        }
        const realmLoopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i.test(realm.hostname);
        if (creds && realm.protocol !== "https:" && !realmLoopback && this.c.insecure !== true) {
            throw this.c.fail("auth", `refusing to send credentials for ${host} to plain-HTTP token service ${realm.host}`, {
                reason: "plaintext-token-service",
            });
        }
        if (b.service) realm.searchParams.set("service", b.service);
        for (const s of scopes) realm.searchParams.append("scope", s);
        if (creds) realm.searchParams.set("account", creds.username);
        const res = await this.c.fetch(realm, creds ? basicHeader(creds) : undefined);
        const what = `token service ${realm.host} for registry ${host}${repository ? `, repository ${repository}` : ""}`;
        if (res.status === 401 || res.status === 403) {
            throw creds
                ? this.c.fail("auth", `authentication failed: ${what} rejected the credentials for user "${creds.username}" (HTTP ${res.status})`, {
                      status: res.status,
                      reason: "credentials-rejected",
                      username: creds.username,
                  })
                : this.c.fail("auth", `authentication required by ${what}`, { status: res.status, reason: "credentials-required" });
        }
        if (res.status < 200 || res.status >= 300) {
            // Redact before cutting: a secret cut in half by the limit would no longer be recognised.
            throw this.c.fail("auth", `${what} answered HTTP ${res.status}: ${redactor.redact(res.body.toString("utf8")).slice(0, 200)}`, { status: res.status });
        }
        let parsed: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
        try {
            parsed = JSON.parse(res.body.toString("utf8"));
        } catch {
            throw this.c.fail("auth", `${what} returned a body that is not JSON`);
        }
        const token = parsed.token ?? parsed.access_token;
        if (!token) throw this.c.fail("auth", `${what} returned no token`);
        redactor.add(token);
        const issued = parsed.issued_at ? Date.parse(parsed.issued_at) : NaN;
        // The spec's default lifetime is 60 s when expires_in is absent.
        const expiresAt = (Number.isNaN(issued) ? Date.now() : Math.min(issued, Date.now())) + (parsed.expires_in ?? 60) * 1000;
        this.tokens.set(scopes, token, expiresAt);
        return token;
    }
}
