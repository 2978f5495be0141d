/** `artifact pull`, and the pull step `diff` shares: the registry client and the layer extractor. */
import * as fs from "node:fs";
import * as path from "node:path";

import { extractLayer } from "../../lib/artifact/extract";
import { pullImage } from "../../lib/oci/pull";
import { parseOciUrl } from "../../lib/oci/reference";
import { str, UsageError, type Flags, type Io } from "../common";
import { connection, printStats } from "../registry";

/** Pulls `url:tag` and extracts its content layer into `dir`. */
export async function pullInto(f: Flags, io: Io, dir: string) {
    const url = str(f, "url")!;
    const conn = connection(f, url, io);
    const ref = parseOciUrl(url);
    const tag = str(f, "tag") ?? ref.tag;
    if (!tag && !ref.digest) throw new UsageError("missing required flag --tag");
    const pulled = await pullImage({ ...conn, url, tag: ref.digest ? undefined : tag });
    try {
        const layer = pulled.layers.find((l) => l.mediaType === "application/vnd.cncf.flux.content.v1.tar+gzip") ?? pulled.layers[0];
        if (!layer) throw new Error(`artifact ${ref.url}:${tag} has no layers`);
        await extractLayer(layer.path, dir);
        printStats(f, pulled.stats, io);
        return { pulled, tag };
    } finally {
        pulled.cleanup();
    }
}

export async function run(f: Flags, io: Io): Promise<number> {
    const out = path.resolve(str(f, "output-dir")!);
    // A failed pull (unreachable registry, hostile layer) leaves no trace: extractLayer removes what
    // it wrote, and the directories we created for it go too.
    const firstCreated = fs.mkdirSync(out, { recursive: true });
    let result: Awaited<ReturnType<typeof pullInto>>;
    try {
        result = await pullInto(f, io, out);
    } catch (e) {
        if (firstCreated) fs.rmSync(firstCreated, { recursive: true, force: true });
        throw e;
    }
    const { pulled, tag } = result;
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
