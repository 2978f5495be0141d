/** `artifact pull`: the artifact's content layer, pulled and extracted by `lib/artifact/pull`. */
import * as fs from "node:fs";
import * as path from "node:path";

import { pullArtifact, type PulledArtifact } from "../../lib/artifact/pull";
import { parseOciUrl } from "../../lib/oci/reference";
import { str, UsageError, type Flags, type Io } from "../common";
import { connection, printStats } from "../registry";

export async function run(f: Flags, io: Io): Promise<number> {
    const url = str(f, "url")!;
    const conn = connection(f, url, io);
    const ref = parseOciUrl(url);
    const tag = str(f, "tag") ?? ref.tag;
    if (!tag && !ref.digest) throw new UsageError("missing required flag --tag");
    const out = path.resolve(str(f, "output-dir")!);
    // A failed pull (unreachable registry, hostile layer) leaves no trace: extractLayer removes what
    // it wrote, and the directories we created for it go too.
    const firstCreated = fs.mkdirSync(out, { recursive: true });
    let pulled: PulledArtifact;
    try {
        pulled = await pullArtifact({ ...conn, url, tag: ref.digest ? undefined : tag, into: out });
    } catch (e) {
        if (firstCreated) fs.rmSync(firstCreated, { recursive: true, force: true });
        throw e;
    }
    printStats(f, pulled.stats, io);
    const info = {
        url: pulled.url,
        repository: pulled.repository,
        tag,
        digest: pulled.manifestDigest,
        source: pulled.annotations["org.opencontainers.image.source"],
        revision: pulled.annotations["org.opencontainers.image.revision"],
        outputDir: out,
    };
    if (f.output === "json") io.out(JSON.stringify(info, null, 2) + "\n");
    else {
        io.out(`✔ pulled ${pulled.url}:${tag} (${pulled.manifestDigest})\n`);
        if (info.source) io.out(`  source:   ${info.source}\n`);
        if (info.revision) io.out(`  revision: ${info.revision}\n`);
        io.out(`✔ extracted to ${out}\n`);
    }
    return 0;
}
