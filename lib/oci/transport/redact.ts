import type { Credential } from "../credentials";

/**
 * Removes secrets from text that may reach a terminal, a log or a test report. Every error path of
 * the client goes through one of these, because Node error messages and registry error bodies can
 * echo request headers or URLs, and a leaked `Authorization: Basic …` is as bad as a leaked password.
 */
export class Redactor {
    private readonly secrets = new Set<string>();

    /** Registers one secret string (a password, a token). Empty strings are ignored. */
    add(secret: string | undefined): this {
        if (secret) this.secrets.add(secret);
        return this;
    }

    /**
     * Registers a username/password pair in every encoding it could appear in: the password itself,
     * `user:pass`, its base64 (the Basic header and docker config `auth` field), base64url, and the
     * URL-encoded password (query strings).
     */
    addCredentials(creds: Credential | undefined): this {
        if (!creds) return this;
        const pair = `${creds.username}:${creds.password}`;
        this.add(creds.password);
        this.add(pair);
        this.add(Buffer.from(pair).toString("base64"));
        this.add(Buffer.from(pair).toString("base64url"));
        this.add(encodeURIComponent(creds.password));
        return this;
    }

    /** Replaces every registered secret, and any Authorization header value, with `***`. */
    redact(text: string): string {
        // Longest first, so a secret that contains another is replaced whole.
        const sorted = [...this.secrets].sort((a, b) => b.length - a.length);
        let out = text;
        for (const s of sorted) out = out.split(s).join("***");
        // Whatever we did not register (a token from a realm, a header echoed by a proxy).
        out = out.replace(/\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/g, "$1 ***");
        out = out.replace(/([?&](?:access_token|token|password)=)[^&\s]+/gi, "$1***");
        return out;
    }

    /** Returns an Error whose message (and stack) carry no registered secret. Keeps OciError fields. */
    redactError<E>(err: E): E {
        if (err instanceof Error) {
            const clean = this.redact(err.message);
            if (clean !== err.message) {
                err.message = clean;
            }
            if (err.stack) err.stack = this.redact(err.stack);
            return err;
        }
        return err;
    }
}
