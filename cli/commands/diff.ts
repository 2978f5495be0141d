/** `artifact diff`: the preview's comparison (`lib/preview`) against one tag. */
import { loadPolicyDir } from "../../lib/policies/loader";
import { hasDifferences, summarise } from "../../lib/preview/diff";
import { compareWithTag } from "../../lib/preview/published";
import { requireDir, str, type Flags, type Io } from "../common";
import { connection, printStats } from "../registry";

export async function run(f: Flags, io: Io): Promise<number> {
    const local = requireDir(str(f, "path")!, "path");
    const url = str(f, "url")!;
    const tag = str(f, "tag")!;
    const conn = connection(f, url, io);
    const policies = (await loadPolicyDir(local)).policies.map(summarise);
    const c = await compareWithTag({ ...conn, url, tag, local: policies });
    printStats(f, conn.stats, io);
    const differs = hasDifferences(c.diff);
    if (differs) io.out(`diff ${c.url}:${tag} (${c.digest}) -> ${local}\n${c.text}\n`);
    else io.out(`✔ no differences between ${local} and ${c.url}:${tag} (${c.digest})\n`);
    return differs ? 1 : 0;
}
