/** Token scopes (`repository:<name>:<actions>`) and the cache of Bearer tokens per scope set. */

/** `repository:<name>:<actions>` scope for the token flow. */
export function repositoryScope(repository: string, push: boolean): string {
    return `repository:${repository}:${push ? "pull,push" : "pull"}`;
}

/** True when `have` (type:name:actions) grants every action `want` asks for on the same resource. */
export function scopeCovers(have: string | undefined, want: string): boolean {
    if (!have) return false;
    const split = (s: string) => {
        const i = s.lastIndexOf(":");
        return { resource: s.slice(0, i), actions: new Set(s.slice(i + 1).split(",")) };
    };
    const h = split(have);
    const w = split(want);
    return h.resource === w.resource && [...w.actions].every((x) => h.actions.has(x) || h.actions.has("*"));
}

interface CachedToken {
    token: string;
    expiresAt: number;
}

/** One registry's Bearer tokens, cached per scope set until shortly before they expire. */
export class TokenCache {
    private readonly tokens = new Map<string, CachedToken>();

    private key(scopes: string[]): string {
        return [...scopes].sort().join(" ");
    }

    /** A cached, unexpired token for these scopes (or a push token that covers a pull). */
    get(scopes: string[], now = Date.now()): string | undefined {
        const candidates = [scopes, scopes.map((s) => s.replace(/:pull$/, ":pull,push"))];
        for (const c of candidates) {
            const t = this.tokens.get(this.key(c));
            // Five seconds of margin so a token does not expire between check and use.
            if (t && t.expiresAt - 5_000 > now) return t.token;
        }
        return undefined;
    }

    set(scopes: string[], token: string, expiresAt: number): void {
        this.tokens.set(this.key(scopes), { token, expiresAt });
    }

    /** Forgets the tokens for these scopes (after the registry refused one). */
    drop(scopes: string[]): void {
        this.tokens.delete(this.key(scopes));
        this.tokens.delete(this.key(scopes.map((s) => s.replace(/:pull$/, ":pull,push"))));
    }
}
