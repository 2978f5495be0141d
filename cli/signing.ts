/**
 * The signing flags of `push` and the key of `verify`: files read and checked here, so a bad key or
 * a missing password is a usage error (exit 2) naming the flag, never the key or the password.
 */
import * as fs from "node:fs";

import { loadPublicKeys, loadSigningKey, SigningError, type PublicKey, type SigningKey } from "../lib/signing";
import { str, UsageError, type Flags } from "./common";

function readKeyFile(file: string, flag: string): Buffer {
    try {
        return fs.readFileSync(file);
    } catch (e) {
        throw new UsageError(`--${flag} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
}

/** `--sign-key FILE [--sign-key-password-env VAR]`, or undefined without `--sign-key`. */
export async function signingKeyFlags(f: Flags, env: NodeJS.ProcessEnv = process.env): Promise<SigningKey | undefined> {
    const file = str(f, "sign-key");
    const passwordEnv = str(f, "sign-key-password-env");
    if (file === undefined) {
        if (passwordEnv !== undefined) throw new UsageError("--sign-key-password-env needs --sign-key");
        return undefined;
    }
    let password: string | undefined;
    if (passwordEnv !== undefined) {
        password = env[passwordEnv];
        if (password === undefined) throw new UsageError(`--sign-key-password-env ${passwordEnv}: the variable is not set`);
    }
    try {
        return await loadSigningKey(readKeyFile(file, "sign-key"), password);
    } catch (e) {
        if (e instanceof SigningError) {
            const hint = e.code === "key-password" && passwordEnv === undefined ? "; pass the password's variable with --sign-key-password-env VAR" : "";
            throw new UsageError(`--sign-key ${file}: ${e.message}${hint}`);
        }
        throw e;
    }
}

/** `--key FILE`: one or more PEM public keys. */
export function publicKeysFlag(f: Flags): PublicKey[] {
    const file = str(f, "key")!;
    try {
        return loadPublicKeys(readKeyFile(file, "key"));
    } catch (e) {
        if (e instanceof SigningError) throw new UsageError(`--key ${file}: ${e.message}`);
        throw e;
    }
}
