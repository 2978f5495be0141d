import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

/** Options of the test token issuer. */
export interface TokenIssuerOptions {
    /** Key + self-signed cert (PEM files) used to sign; the registry trusts the cert via rootcertbundle. */
    keyFile: string;
    certFile: string;
    username: string;
    password: string;
    /** `iss` claim; must equal the registry's auth.token.issuer. */
    issuer: string;
    /** `aud` claim; must equal the registry's auth.token.service. */
    service: string;
    /** Token lifetime in seconds (exp = now + ttl). Mutable later. Defaults to 300. */
    ttlSeconds?: number;
}

/**
 * A minimal Docker token service (the `auth.token` realm): checks Basic credentials and signs an
 * RS256 JWT granting the requested repository actions. Distribution 2.8 finds the verification key
 * through the `x5c` header (leaf certificate chained to its rootcertbundle), so the header carries
 * the signing certificate; `kid` alone would need libtrust key IDs.
 */
export class TokenIssuer {
    /** Lifetime of the next tokens (seconds, may be negative). Distribution adds 60 s of leeway to exp. */
    ttlSeconds: number;
    /** `expires_in` told to clients; undefined = ttlSeconds. Lets a test make a client trust a token too long. */
    reportedExpiresIn?: number;
    /** Token requests seen, and tokens issued. */
    requests = 0;
    issued = 0;
    /** Decides which actions the user gets on a repository; all requested by default. */
    grant: (repository: string, requested: string[]) => string[] = (_r, a) => a;

    private server?: http.Server;
    private readonly key: crypto.KeyObject;
    private readonly x5c: string;

    constructor(private readonly o: TokenIssuerOptions) {
        this.ttlSeconds = o.ttlSeconds ?? 300;
        this.key = crypto.createPrivateKey(fs.readFileSync(o.keyFile));
        this.x5c = new crypto.X509Certificate(fs.readFileSync(o.certFile)).raw.toString("base64");
    }

    /** Realm URL once started. */
    get realm(): string {
        const a = this.server?.address() as AddressInfo | undefined;
        if (!a) throw new Error("token issuer not started");
        return `http://127.0.0.1:${a.port}/token`;
    }

    async start(): Promise<void> {
        this.server = http.createServer((req, res) => this.handle(req, res));
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    }

    async stop(): Promise<void> {
        const s = this.server;
        if (!s) return;
        this.server = undefined;
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
    }

    /** Signs a token for `sub` with the given access list. Exposed for tests that forge edge cases. */
    sign(sub: string, access: { type: string; name: string; actions: string[] }[], ttlSeconds = this.ttlSeconds): string {
        const now = Math.floor(Date.now() / 1000);
        const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
        const header = b64({ typ: "JWT", alg: "RS256", x5c: [this.x5c] });
        const claims = b64({
            iss: this.o.issuer,
            sub,
            aud: this.o.service,
            exp: now + ttlSeconds,
            nbf: now - 5,
            iat: now,
            jti: crypto.randomBytes(12).toString("hex"),
            access,
        });
        const sig = crypto.sign("sha256", Buffer.from(`${header}.${claims}`), this.key).toString("base64url");
        return `${header}.${claims}.${sig}`;
    }

    private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
        this.requests++;
        const url = new URL(req.url ?? "/", "http://x");
        const deny = (status: number, msg: string) => {
            res.writeHead(status, { "Content-Type": "application/json" });
            res.end(JSON.stringify({ details: msg }));
        };
        if (url.pathname !== "/token") return deny(404, "not found");
        if (url.searchParams.get("service") !== this.o.service) return deny(400, "unknown service");
        const auth = req.headers.authorization ?? "";
        const m = /^Basic (.+)$/.exec(auth);
        if (!m) return deny(401, "authentication required");
        const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
        if (decoded !== `${this.o.username}:${this.o.password}`) return deny(401, "invalid credentials");
        const access = url.searchParams
            .getAll("scope")
            .map((s) => s.split(":"))
            .filter((p) => p.length === 3 && p[0] === "repository")
            .map(([type, name, actions]) => ({ type: type!, name: name!, actions: this.grant(name!, actions!.split(",")) }));
        const token = this.sign(this.o.username, access);
        this.issued++;
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(
            JSON.stringify({
                token,
                access_token: token,
                expires_in: this.reportedExpiresIn ?? this.ttlSeconds,
                issued_at: new Date().toISOString(),
            }),
        );
    }
}
