import type { Credentials } from "./credentials";

/** One parsed `WWW-Authenticate` challenge. */
export interface Challenge {
    scheme: string; // lower case: "basic", "bearer"
    params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header value into challenges. Handles quoted values containing
 * commas (`scope="repository:a:pull,push"`) and several challenges in one header.
 */
export function parseWwwAuthenticate(header: string | string[] | undefined): Challenge[] {
    if (!header) return [];
    const values = Array.isArray(header) ? header : [header];
    const out: Challenge[] = [];
    for (const value of values) {
        let i = 0;
        let current: Challenge | undefined;
        while (i < value.length) {
            while (i < value.length && (value[i] === " " || value[i] === ",")) i++;
            const tokenMatch = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/.exec(value.slice(i));
            if (!tokenMatch) break;
            const token = tokenMatch[0];
            i += token.length;
            while (value[i] === " ") i++;
            if (value[i] === "=") {
                // auth-param of the current challenge
                i++;
                while (value[i] === " ") i++;
                let v = "";
                if (value[i] === '"') {
                    i++;
                    while (i < value.length && value[i] !== '"') {
                        if (value[i] === "\\" && i + 1 < value.length) i++;
                        v += value[i];
                        i++;
                    }
                    i++; // closing quote
                } else {
                    const m = /^[^,\s]*/.exec(value.slice(i));
                    v = m ? m[0] : "";
                    i += v.length;
                }
                if (current) current.params[token.toLowerCase()] = v;
            } else {
                current = { scheme: token.toLowerCase(), params: {} };
                out.push(current);
            }
        }
    }
    return out;
}

/** Basic `Authorization` header value for a credentials pair. */
export function basicHeader(creds: Credentials): string {
    return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
}

/** `repository:<name>:<actions>` scope for the token flow. */
export function repositoryScope(repository: string, push: boolean): string {
    return `repository:${repository}:${push ? "pull,push" : "pull"}`;
}

interface CachedToken {
    token: string;
    expiresAt: number;
}

/**
 * Per-client authentication memory: which hosts want Basic, the Bearer realm/service of each host
 * and tokens cached per (host, scope). Remembering the realm lets the client fetch a token for a new
 * scope directly instead of paying a 401 round trip per scope.
 */
export class AuthCache {
    readonly basicHosts = new Set<string>();
    readonly bearer = new Map<string, { realm: string; service?: string }>();
    private readonly tokens = new Map<string, CachedToken>();

    private key(host: string, scopes: string[]): string {
        return `${host}|${[...scopes].sort().join(" ")}`;
    }

    /** A cached, unexpired token for these scopes (or a push token that covers a pull). */
    getToken(host: string, scopes: string[], now = Date.now()): string | undefined {
        const candidates = [scopes, scopes.map((s) => s.replace(/:pull$/, ":pull,push"))];
        for (const c of candidates) {
            const t = this.tokens.get(this.key(host, c));
            // Five seconds of margin so a token does not expire between check and use.
            if (t && t.expiresAt - 5_000 > now) return t.token;
        }
        return undefined;
    }

    setToken(host: string, scopes: string[], token: string, expiresAt: number): void {
        this.tokens.set(this.key(host, scopes), { token, expiresAt });
    }

    /** Forgets every token of a host for these scopes (after the registry refused one). */
    dropToken(host: string, scopes: string[]): void {
        this.tokens.delete(this.key(host, scopes));
        this.tokens.delete(this.key(host, scopes.map((s) => s.replace(/:pull$/, ":pull,push"))));
    }
}
