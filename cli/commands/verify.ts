/**
 * `artifact verify`: is the artifact at the tag signed by one of the keys? The check `cosign
 * verify --key` makes for classic signatures (lib/signing), with the CLI's connection flags.
 * Exit 0 when verified; 1 when not (unsigned, another key, changed after signing).
 */
import { parseOciUrl } from "../../lib/oci/reference";
import { shortFingerprint, verifyArtifact } from "../../lib/signing";
import { str, UsageError, type Flags, type Io } from "../common";
import { connection } from "../registry";
import { publicKeysFlag } from "../signing";

export async function run(f: Flags, io: Io): Promise<number> {
    const url = str(f, "url")!;
    const ref = parseOciUrl(url);
    const tag = str(f, "tag") ?? ref.tag;
    if (!tag && !ref.digest) throw new UsageError("missing required flag --tag");
    const publicKeys = publicKeysFlag(f);
    const conn = connection(f, url, io);
    const verdict = await verifyArtifact({ ...conn, url: ref.url, tag: ref.digest ? undefined : tag, digest: ref.digest, publicKeys });
    const verified = verdict.status === "verified";
    if (f.output === "json") {
        io.out(JSON.stringify({
            url: verdict.url,
            tag,
            digest: verdict.digest,
            verified,
            status: verdict.status,
            verifiedBy: verdict.verifiedBy,
            signatureTag: verdict.signatureTag,
            message: verdict.message,
            keys: publicKeys.map((k) => k.fingerprint),
        }, null, 2) + "\n");
    } else if (verified) {
        io.out(`✔ ${verdict.url}@${verdict.digest} is signed by ${shortFingerprint(verdict.verifiedBy!)}\n`);
    } else {
        io.err(`✗ ${verdict.url}@${verdict.digest}: ${verdict.message}\n`);
    }
    return verified ? 0 : 1;
}
