/** A refused policy directory, as the CLI reports it: loaded only when a command failed that way. */
import { PolicyLoadAggregateError } from "../lib/policies/errors";
import { formatPolicyProblems, problemsJson } from "../lib/policies/problems";
import { redactor, type Flags, type Io } from "./common";

export { PolicyLoadAggregateError };

/** Grouped lines on stderr, or every problem as JSON on stdout. Exit 1 either way. */
export function reportPolicyProblems(e: PolicyLoadAggregateError, f: Flags, io: Io): number {
    if (f.output === "json") {
        io.out(JSON.stringify(problemsJson(e.report), null, 2) + "\n");
        io.err(`error: ${e.errors.length} problem${e.errors.length === 1 ? "" : "s"} in policy directory ${e.root}; the full list is the JSON on stdout\n`);
        return 1;
    }
    const dir = /^[\w./:@-]+$/.test(e.root) ? e.root : `'${e.root.replace(/'/g, "'\\''")}'`;
    const text = formatPolicyProblems(e.report, { fullListHint: `Every problem, as JSON: artifact build --path ${dir} --output json` });
    io.err(`error: ${redactor.redact(text)}\n`);
    return 1;
}
