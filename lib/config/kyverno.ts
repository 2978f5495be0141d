/** The `kyverno` section: the Helm chart, from a repository or a local directory. */
import * as semver from "semver";
import { DEFAULTS } from "./defaults";
import type { ConfigReader } from "./reader";

export interface KyvernoConfig {
    /** Chart version (ignored for a local chart path, whose Chart.yaml decides). */
    chartVersion: string;
    /** Helm repository URL, or undefined for a local chart. */
    repository?: string;
    /** Chart name in the repository, or absolute path of a local chart. */
    chart: string;
    namespace: string;
}

export function parseKyverno(reader: ConfigReader): KyvernoConfig {
    const chartVersion = reader.str("kyvernoChartVersion") ?? DEFAULTS.kyvernoChartVersion;
    if (!semver.valid(chartVersion)) reader.bad("kyvernoChartVersion", chartVersion, "must be a chart version such as 3.9.1");
    const chart = reader.str("kyvernoChart");
    const repository = reader.str("kyvernoRepository");
    const namespace = DEFAULTS.kyvernoNamespace;
    if (chart !== undefined && (chart.includes("/") || chart.startsWith("."))) {
        if (repository !== undefined) reader.bad("kyvernoRepository", repository, "does not apply to a local chart path in kyvernoChart (remove one of them)");
        return { chartVersion, chart: reader.resolvePath(chart), namespace };
    }
    const repositoryUrl = repository ?? DEFAULTS.kyvernoRepository;
    if (!/^(https|oci):\/\//.test(repositoryUrl)) reader.bad("kyvernoRepository", repositoryUrl, "must be an https:// or oci:// Helm repository URL");
    return { chartVersion, repository: repositoryUrl, chart: chart ?? DEFAULTS.kyvernoChart, namespace };
}
