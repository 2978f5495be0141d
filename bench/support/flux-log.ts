/**
 * Flux's own account of how long it took to apply a revision, read from kustomize-controller's
 * JSON log: after every successful reconciliation it logs "Reconciliation finished in <Go duration>,
 * next run in …" with the Kustomization's name and the revision it applied. The first such line for
 * a revision is the apply that brought it in (build, server-side apply, health checks); later ones
 * are the interval's re-applies of the same revision.
 */

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, "µs": 1e-3, "μs": 1e-3, us: 1e-3, ns: 1e-6 };

/** Go's `time.Duration.String()` ("2.82s", "901.8ms", "1m2.5s", "0s") in milliseconds; undefined when it is not one. */
export function goDurationMs(text: string): number | undefined {
    if (text === "0s") return 0;
    const parts = /^(?:\d+(?:\.\d+)?(?:h|m|s|ms|µs|μs|us|ns))+$/.test(text) ? text.match(/\d+(?:\.\d+)?(?:ms|µs|μs|us|ns|h|m|s)/g) : null;
    if (!parts) return undefined;
    let ms = 0;
    for (const p of parts) {
        const [, n, unit] = /^(\d+(?:\.\d+)?)(\D+)$/.exec(p)!;
        ms += Number(n) * UNIT_MS[unit!]!;
    }
    return ms;
}

interface FinishedLine {
    msg?: string;
    name?: string;
    controllerKind?: string;
    revision?: string;
}

/**
 * Milliseconds Flux took to apply the revision carrying `digest` ("sha256:…") to the Kustomization
 * `name`: the first "Reconciliation finished in" line for it. `log` may hold other controllers' lines
 * and line prefixes (the harness prefixes each with the controller's name); undefined when Flux has
 * not logged that apply.
 */
export function fluxApplyMs(log: string, name: string, digest: string): number | undefined {
    for (const line of log.split("\n")) {
        const start = line.indexOf("{");
        if (start < 0 || !line.includes("Reconciliation finished in")) continue;
        let entry: FinishedLine;
        try {
            entry = JSON.parse(line.slice(start)) as FinishedLine;
        } catch {
            continue;
        }
        if (entry.controllerKind !== "Kustomization" || entry.name !== name || !entry.revision?.endsWith(digest)) continue;
        const m = /^Reconciliation finished in (\S+), next run in /.exec(entry.msg ?? "");
        const ms = m ? goDurationMs(m[1]!) : undefined;
        if (ms !== undefined) return ms;
    }
    return undefined;
}
