import { formatPolicyProblems, problemLocation, problemMessage, type PolicyProblem, type ProblemCause, type ProblemReport } from "./problems";

/**
 * One problem found while loading a policy directory. `file` is relative to the policy dir
 * (forward slashes) so messages are the same on every machine; `line` is 1-based when known.
 * `message` is the whole sentence; `detail` is what the grouped report prints under the cause.
 */
export class PolicyLoadError extends Error implements PolicyProblem {
    readonly file: string;
    readonly line?: number;
    readonly cause: ProblemCause;
    readonly detail: string;

    constructor(file: string, line: number | undefined, cause: ProblemCause, detail: string) {
        super(problemMessage(cause, detail));
        this.name = "PolicyLoadError";
        this.file = file;
        this.line = line;
        this.cause = cause;
        this.detail = detail;
    }

    /** `path:line: message` (or `path: message` when no line is known). */
    format(): string {
        return `${problemLocation(this)}: ${this.message}`;
    }
}

/**
 * Every problem found in one load. The loader collects all of them before throwing, so a user
 * fixes a directory in one pass instead of one error per run. The message is the grouped report
 * (lib/policies/problems.ts); callers with more to say (a flag, a config key) format `report` themselves.
 */
export class PolicyLoadAggregateError extends Error {
    readonly errors: PolicyLoadError[];
    readonly root: string;
    /** Files that hold at least one valid policy (a `.sourceignore` suggestion never leaves them out). */
    readonly policyFiles: string[];

    constructor(root: string, errors: PolicyLoadError[], policyFiles: string[] = []) {
        const sorted = [...errors].sort(compareErrors);
        const report: ProblemReport = { root, problems: sorted, policyFiles };
        super(formatPolicyProblems(report));
        this.name = "PolicyLoadAggregateError";
        this.errors = sorted;
        this.root = root;
        this.policyFiles = policyFiles;
    }

    /** The structured report, for {@link formatPolicyProblems} and `problemsJson`. */
    get report(): ProblemReport {
        return { root: this.root, problems: this.errors, policyFiles: this.policyFiles };
    }
}

function compareErrors(a: PolicyLoadError, b: PolicyLoadError): number {
    if (a.file !== b.file) return a.file < b.file ? -1 : 1;
    return (a.line ?? 0) - (b.line ?? 0);
}
