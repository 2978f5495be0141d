/** `artifact push`: build, then the registry client (blobs first, manifest last). */
import { pushImage } from "../../lib/oci/push";
import { parseOciUrl } from "../../lib/oci/reference";
import { str, type Flags, type Io } from "../common";
import { connection, printStats } from "../registry";
import { build } from "./build";

export async function run(f: Flags, io: Io): Promise<number> {
    const url = str(f, "url")!;
    const tag = str(f, "tag")!;
    const conn = connection(f, url, io);
    const ref = parseOciUrl(url);
    const { built, dispose } = await build(f);
    try {
        if (f.output !== "json") io.out(`► pushing artifact to ${ref.url}:${tag}\n`);
        const res = await pushImage({
            ...conn,
            url,
            tag,
            manifest: built.manifest,
            config: built.config,
            configDescriptor: built.configDescriptor,
            layers: [built.layer],
            force: f.force === true,
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
    } finally {
        dispose();
    }
}
