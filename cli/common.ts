/**
 * What the CLI's entry point and every command share. Kept light on purpose: the entry point
 * loads this for `--help` and usage errors, so nothing here may pull in the YAML parser, the
 * archive code or the registry client.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { Redactor } from "../lib/oci/transport/redact";

/** A usage mistake: exit code 2. */
export class UsageError extends Error {}

export type Flags = Record<string, string | boolean | undefined>;

/** Where the CLI writes; injectable so tests can capture it in-process. */
export interface Io {
    out: (s: string) => void;
    err: (s: string) => void;
}

/** A command's implementation, loaded only when that command runs. */
export type Run = (f: Flags, io: Io) => Promise<number>;

/** The redactor for this process: whatever is printed on failure goes through it. */
export const redactor = new Redactor();

export const str = (f: Flags, k: string): string | undefined => (typeof f[k] === "string" ? (f[k] as string) : undefined);

export function requireDir(p: string, flag: string): string {
    let st: fs.Stats;
    try {
        st = fs.statSync(p);
    } catch {
        throw new UsageError(`--${flag} ${p}: no such directory`);
    }
    if (!st.isDirectory()) throw new UsageError(`--${flag} ${p}: not a directory`);
    return path.resolve(p);
}
