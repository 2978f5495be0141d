/** `artifact push`: the program's push flow (`lib/publish`), with the flags as its options. */
import { parseOciUrl } from "../../lib/oci/reference";
import { publishPolicies } from "../../lib/publish";
import { requireDir, str, type Flags, type Io } from "../common";
import { connection, printStats } from "../registry";

export async function run(f: Flags, io: Io): Promise<number> {
    const url = str(f, "url")!;
    const tag = str(f, "tag")!;
    const conn = connection(f, url, io);
    const repository = parseOciUrl(url).url;
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
    printStats(f, res.stats, io);
    const digestRef = `${res.host}/${res.repository}@${res.digest}`;
    if (f.output === "json") {
        // Same shape as `flux push artifact --output json`.
        io.out(JSON.stringify({ url: `oci://${digestRef}`, repository: `${res.host}/${res.repository}`, tag: res.tag, digest: res.digest }, null, 2) + "\n");
    } else if (res.unchanged) {
        io.out(`✔ tag ${tag} already points at ${res.digest}; nothing uploaded\n`);
    } else {
        io.out(`✔ artifact successfully pushed to ${digestRef} (${res.uploaded.length} blobs uploaded, ${res.skipped.length} already present)\n`);
    }
    return 0;
}
