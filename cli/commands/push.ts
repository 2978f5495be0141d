/**
 * `artifact push`: the program's push flow (`lib/publish`), with the flags as its options; with
 * `--sign-key`, the pushed digest signed the way the program signs it (lib/signing).
 */
import { parseOciUrl } from "../../lib/oci/reference";
import { publishPolicies } from "../../lib/publish";
import { shortFingerprint, signArtifact } from "../../lib/signing";
import { requireDir, str, type Flags, type Io } from "../common";
import { connection, printStats } from "../registry";
import { signingKeyFlags } from "../signing";

export async function run(f: Flags, io: Io): Promise<number> {
    const url = str(f, "url")!;
    const tag = str(f, "tag")!;
    const conn = connection(f, url, io);
    const repository = parseOciUrl(url).url;
    // The key is read and checked before anything is pushed.
    const key = await signingKeyFlags(f);
    const res = await publishPolicies({
        ...conn,
        path: requireDir(str(f, "path")!, "path"),
        url,
        tag,
        source: str(f, "source"),
        sourceRevision: str(f, "revision"),
        created: str(f, "created"),
        force: f.force === true,
        onBuilt: () => {
            if (f.output !== "json") io.out(`► pushing artifact to ${repository}:${tag}\n`);
        },
    });
    // Signed after the push and before anyone is told the tag is ready; this key's signature
    // replaces the ones stored before, as the program's does.
    const signed = key ? await signArtifact({ ...conn, url, digest: res.digest, key, replace: true }) : undefined;
    printStats(f, res.stats, io);
    const digestRef = `${res.host}/${res.repository}@${res.digest}`;
    const signature = signed && key ? { tag: signed.signatureTag, digest: signed.signatureDigest, key: key.publicKey.fingerprint, unchanged: signed.unchanged } : undefined;
    if (f.output === "json") {
        // The shape of `flux push artifact --output json`, plus the signature when there is one.
        io.out(JSON.stringify({ url: `oci://${digestRef}`, repository: `${res.host}/${res.repository}`, tag: res.tag, digest: res.digest, ...(signature ? { signature } : {}) }, null, 2) + "\n");
        return 0;
    }
    if (res.unchanged) {
        io.out(`✔ tag ${tag} already points at ${res.digest}; nothing uploaded\n`);
    } else {
        io.out(`✔ artifact successfully pushed to ${digestRef} (${res.uploaded.length} blobs uploaded, ${res.skipped.length} already present)\n`);
    }
    if (signature) {
        io.out(signature.unchanged
            ? `✔ already signed by ${shortFingerprint(signature.key)} (${signature.tag})\n`
            : `✔ signed by ${shortFingerprint(signature.key)}: ${signature.tag} (${signature.digest})\n`);
    }
    return 0;
}
