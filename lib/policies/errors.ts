/**
 * One problem found while loading a policy directory. `file` is relative to the policy dir
 * (forward slashes) so messages are the same on every machine; `line` is 1-based when known.
 */
export class PolicyLoadError extends Error {
    readonly file: string;
    readonly line?: number;

    constructor(file: string, line: number | undefined, message: string) {
        super(message);
        this.name = "PolicyLoadError";
        this.file = file;
        this.line = line;
    }

    /** `path:line: message` (or `path: message` when no line is known). */
    format(): string {
        const where = this.line !== undefined ? `${this.file}:${this.line}` : this.file;
        return `${where}: ${this.message}`;
    }
}

/**
 * Every problem found in one load. The loader collects all of them before throwing, so a user
 * fixes a directory in one pass instead of one error per run.
 */
export class PolicyLoadAggregateError extends Error {
    readonly errors: PolicyLoadError[];
    readonly root: string;

    constructor(root: string, errors: PolicyLoadError[]) {
        const sorted = [...errors].sort(compareErrors);
        super(
            `${sorted.length} problem${sorted.length === 1 ? "" : "s"} in policy directory ${root}:\n` +
                sorted.map((e) => `  ${e.format()}`).join("\n"),
        );
        this.name = "PolicyLoadAggregateError";
        this.errors = sorted;
        this.root = root;
    }
}

function compareErrors(a: PolicyLoadError, b: PolicyLoadError): number {
    if (a.file !== b.file) return a.file < b.file ? -1 : 1;
    return (a.line ?? 0) - (b.line ?? 0);
}
