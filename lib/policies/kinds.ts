/**
 * Which documents may ship, and what each one means: every document is checked against the kind
 * table (kindTable.ts); a policy's action as written comes from the rules in enforcement.ts.
 */
import * as path from "node:path";
import { PolicyLoadError } from "./errors";
import { digestOf } from "./normalise";
import type { ProblemCause } from "./problems";
import { combineActions, normaliseAction, overrideActions, validationActionsEnforcement } from "./enforcement";
import { ALLOWED_KINDS } from "./kindTable";
import type { Enforcement, Policy, PolicyRule, RuleKind } from "./types";
import { findLine, type YamlDocument } from "./yaml";

/** File names kustomize recognises as a kustomization (we ship the YAML spellings). */
export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml"];
const KUSTOMIZE_API_VERSION = "kustomize.config.k8s.io/v1beta1";

const WHAT_TO_DO =
    "move the file out of the policy directory or list it in .sourceignore";

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A kustomization.yaml that ships (not a policy). */
export interface KustomizationDoc {
    file: string;
    line: number;
    /** Local `resources` entries (URLs and remote refs excluded). */
    resources: { value: string; line: number }[];
}

export type ClassifiedDocument =
    | { type: "policy"; policy: Policy }
    | { type: "kustomization"; kustomization: KustomizationDoc }
    | { type: "invalid" };

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
    if (v === null) return "null";
    if (Array.isArray(v)) return "a list";
    return typeof v === "object" ? "a mapping" : `a ${typeof v}`;
}

function esc(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Validates one parsed document and classifies it. Problems are appended to `errors`; the shared
 * explanation and fix of each cause (e.g. "only Kyverno policy kinds ship") are in problems.ts.
 * @param file path relative to the policy dir, forward slashes
 */
export function classifyDocument(doc: YamlDocument, file: string, errors: PolicyLoadError[]): ClassifiedDocument {
    const err = (line: number, msg: string, cause: ProblemCause = "invalid-policy") => errors.push(new PolicyLoadError(file, line, cause, msg));
    const base = path.posix.basename(file);
    const v = doc.value;

    if (KUSTOMIZATION_FILES.includes(base)) return classifyKustomization(doc, file, (line, msg) => err(line, msg, "kustomization"));

    if (!isRecord(v)) {
        err(doc.line, `document is ${describe(v)}, not a Kubernetes object`, "not-an-object");
        return { type: "invalid" };
    }
    const { apiVersion, kind } = v;
    if (typeof apiVersion !== "string" || apiVersion === "" || typeof kind !== "string" || kind === "") {
        err(doc.line, `document has no ${typeof apiVersion !== "string" || apiVersion === "" ? "apiVersion" : "kind"}`, "not-an-object");
        return { type: "invalid" };
    }
    const slash = apiVersion.indexOf("/");
    const group = slash < 0 ? "" : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    const kindLine = findLine(doc, new RegExp(`^kind:`));

    if (group === "kustomize.config.k8s.io" && kind === "Kustomization") {
        err(kindLine, "a kustomize Kustomization must be in a file named kustomization.yaml", "misplaced-kustomization");
        return { type: "invalid" };
    }
    const spec = ALLOWED_KINDS[group]?.[kind];
    if (!spec) {
        const sameKind = Object.entries(ALLOWED_KINDS).filter(([, ks]) => kind in ks);
        if (sameKind.length > 0) {
            // A Kyverno kind under the wrong group is a policy with a typo, not a stray file.
            err(
                kindLine,
                `${kind} (${apiVersion}) is not a Kyverno policy (${kind} is served by ${sameKind.map(([g]) => g).join(" and ")}, ` +
                    `not ${group || "the core group"}); use apiVersion ${sameKind.flatMap(([g, ks]) => ks[kind].versions.map((x) => `${g}/${x}`)).join(" or ")}`,
            );
        } else {
            err(kindLine, `${kind} (${apiVersion}) is not a Kyverno policy`, "not-a-policy");
        }
        return { type: "invalid" };
    }
    if (!spec.versions.includes(version)) {
        err(
            findLine(doc, /^apiVersion:/),
            `${group}/${version} does not serve ${kind}; use apiVersion ${spec.versions.map((x) => `${group}/${x}`).join(" or ")}`,
        );
        return { type: "invalid" };
    }

    if (v.spec === undefined && v.status !== undefined) {
        const named = isRecord(v.metadata) && typeof v.metadata.name === "string" ? ` "${v.metadata.name}"` : "";
        err(findLine(doc, /^status:/), `${kind}${named} has a status and no spec`, "test-assertion");
        return { type: "invalid" };
    }

    const before = errors.length;
    const meta = v.metadata;
    let name = "";
    let namespace: string | undefined;
    if (!isRecord(meta)) {
        err(doc.line, `${kind} has no metadata; add metadata.name`);
    } else {
        const metaLine = findLine(doc, /^metadata:/);
        if (typeof meta.name !== "string" || meta.name === "") {
            err(
                metaLine,
                `${kind} has no metadata.name${meta.generateName ? " (generateName is not supported by server-side apply)" : ""}; set metadata.name`,
            );
        } else if (meta.name.length > 253 || !DNS1123_SUBDOMAIN.test(meta.name)) {
            err(
                findLine(doc, /^\s+name:/, metaLine),
                `metadata.name "${meta.name}" is not a valid Kubernetes name; use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (max 253)`,
            );
        } else {
            name = meta.name;
        }
        if (meta.namespace !== undefined && meta.namespace !== null) {
            const nsLine = findLine(doc, /^\s+namespace:/, metaLine);
            if (!spec.namespaced) {
                err(nsLine, `${kind} is cluster-scoped and must not set metadata.namespace; remove it`);
            } else if (typeof meta.namespace !== "string" || meta.namespace.length > 63 || !DNS1123_LABEL.test(meta.namespace)) {
                err(nsLine, `metadata.namespace ${JSON.stringify(meta.namespace)} is not a valid namespace name; use a DNS-1123 label (lowercase letters, digits, '-', max 63)`);
            } else {
                namespace = meta.namespace;
            }
        }
    }

    const specObj = v.spec;
    let rules: PolicyRule[] = [];
    let validationFailureAction: string | undefined;
    let validationActions: string[] | undefined;
    let enforcement: Enforcement = "None";

    if (spec.family === "classic") {
        const r = classicPolicy(doc, kind, specObj, err);
        rules = r.rules;
        validationFailureAction = r.validationFailureAction;
        enforcement = r.enforcement;
    } else if (spec.family === "validating") {
        const r = validatingPolicy(doc, kind, specObj, err);
        validationActions = r.validationActions;
        enforcement = r.enforcement;
    } else if (!isRecord(specObj)) {
        err(doc.line, `${kind} has no spec; add the spec (see the Kyverno documentation for ${kind})`);
    }

    if (errors.length > before) return { type: "invalid" };
    const policy: Policy = {
        apiVersion,
        kind,
        name,
        ...(namespace !== undefined ? { namespace } : {}),
        file,
        line: doc.line,
        digest: digestOf(v),
        rules,
        ...(validationFailureAction !== undefined ? { validationFailureAction } : {}),
        ...(validationActions !== undefined ? { validationActions } : {}),
        enforcement,
        document: v,
    };
    return { type: "policy", policy };
}

function classifyKustomization(
    doc: YamlDocument,
    file: string,
    err: (line: number, msg: string) => void,
): ClassifiedDocument {
    const v = doc.value;
    if (!isRecord(v)) {
        err(doc.line, `kustomization file holds ${describe(v)}, not a Kustomization; fix it or ${WHAT_TO_DO}`);
        return { type: "invalid" };
    }
    // kustomize accepts a kustomization without apiVersion/kind; when given they must match.
    if ((v.apiVersion !== undefined && v.apiVersion !== KUSTOMIZE_API_VERSION) || (v.kind !== undefined && v.kind !== "Kustomization")) {
        err(
            doc.line,
            `${path.posix.basename(file)} must hold a kustomize Kustomization (apiVersion ${KUSTOMIZE_API_VERSION}), found ${String(v.kind)} (${String(v.apiVersion)}); fix it or ${WHAT_TO_DO}`,
        );
        return { type: "invalid" };
    }
    const resources: { value: string; line: number }[] = [];
    if (v.resources !== undefined) {
        if (!Array.isArray(v.resources)) {
            err(findLine(doc, /^resources:/), "kustomization resources must be a list of paths");
            return { type: "invalid" };
        }
        const resLine = findLine(doc, /^resources:/);
        for (const r of v.resources) {
            if (typeof r !== "string" || r === "") {
                err(resLine, "kustomization resources entries must be non-empty strings");
                continue;
            }
            // Remote bases (URLs, git refs) are kustomize's business; we only check local paths.
            if (/^[a-z][a-z0-9+.-]*:\/\//i.test(r) || /^(github\.com|gitlab\.com|git@)/.test(r) || r.includes("?ref=")) continue;
            resources.push({ value: r, line: findLine(doc, new RegExp(`^\\s*-\\s*["']?${esc(r)}["']?\\s*(#.*)?$`), resLine) });
        }
    }
    return { type: "kustomization", kustomization: { file, line: doc.line, resources } };
}

const RULE_KINDS: RuleKind[] = ["validate", "mutate", "generate", "verifyImages"];

/** ClusterPolicy/Policy: rules, failure actions, effective enforcement. */
function classicPolicy(
    doc: YamlDocument,
    kind: string,
    spec: unknown,
    err: (line: number, msg: string) => void,
): { rules: PolicyRule[]; validationFailureAction?: string; enforcement: Enforcement } {
    if (!isRecord(spec)) {
        err(doc.line, `${kind} has no spec; add spec.rules with at least one rule`);
        return { rules: [], enforcement: "None" };
    }
    let specAction: "Audit" | "Enforce" | undefined;
    let validationFailureAction: string | undefined;
    if (spec.validationFailureAction !== undefined) {
        if (typeof spec.validationFailureAction !== "string" || !normaliseAction(spec.validationFailureAction)) {
            err(
                findLine(doc, /\bvalidationFailureAction:/),
                `spec.validationFailureAction ${JSON.stringify(spec.validationFailureAction)} is invalid; use Audit or Enforce`,
            );
        } else {
            validationFailureAction = spec.validationFailureAction;
            specAction = normaliseAction(spec.validationFailureAction);
        }
    }
    const specOverrides = overrideActions(spec.validationFailureActionOverrides);
    const rulesLine = findLine(doc, /^\s+rules:/);
    if (!Array.isArray(spec.rules) || spec.rules.length === 0) {
        err(rulesLine, `${kind} has no rules; add at least one entry under spec.rules`);
        return { rules: [], validationFailureAction, enforcement: "None" };
    }
    const rules: PolicyRule[] = [];
    const effective: ("Audit" | "Enforce")[] = [];
    const seen = new Map<string, number>();
    // Rules are searched for in order so a repeated name points at its own occurrence.
    let cursor = rulesLine;
    spec.rules.forEach((raw: unknown, i: number) => {
        if (!isRecord(raw)) {
            err(rulesLine, `spec.rules[${i}] is ${describe(raw)}; each rule must be a mapping with a name`);
            return;
        }
        const nm = raw.name;
        if (typeof nm !== "string" || nm === "") {
            err(rulesLine, `spec.rules[${i}] has no name; give every rule a unique name`);
            return;
        }
        const line = findLine(doc, new RegExp(`^\\s*(-\\s+)?name:\\s*["']?${esc(nm)}["']?\\s*(#.*)?$`), cursor);
        if (line >= cursor) cursor = line + 1;
        if (nm.length > 63) err(line, `rule name "${nm}" is longer than 63 characters; shorten it`);
        const prev = seen.get(nm);
        if (prev !== undefined) {
            err(line, `rule name "${nm}" is used twice (also spec.rules[${prev}]); rule names must be unique within a policy`);
        }
        seen.set(nm, i);
        const kinds = RULE_KINDS.filter((k) => raw[k] !== undefined && raw[k] !== null);
        if (kinds.length === 0) {
            err(line, `rule "${nm}" has none of validate, mutate, generate or verifyImages; add one`);
        }
        const rule: PolicyRule = { name: nm, kinds };
        if (isRecord(raw.validate)) {
            const fa = raw.validate.failureAction;
            if (fa !== undefined) {
                if (fa !== "Audit" && fa !== "Enforce") {
                    err(
                        findLine(doc, /\bfailureAction:/, line),
                        `rule "${nm}" validate.failureAction ${JSON.stringify(fa)} is invalid; use Audit or Enforce`,
                    );
                } else {
                    rule.failureAction = fa;
                }
            }
            // Rule-level action wins over the spec-level one; Kyverno's default is Audit.
            effective.push(rule.failureAction ?? specAction ?? "Audit");
            const ruleOverrides = overrideActions(raw.validate.failureActionOverrides);
            effective.push(...(ruleOverrides.length ? ruleOverrides : specOverrides));
        }
        if (Array.isArray(raw.verifyImages)) {
            for (const vi of raw.verifyImages) {
                const fa = isRecord(vi) ? normaliseAction(vi.failureAction) : undefined;
                effective.push(fa ?? specAction ?? "Audit");
            }
            effective.push(...specOverrides);
        }
        rules.push(rule);
    });
    return { rules, validationFailureAction, enforcement: combineActions(effective) };
}

const VALIDATION_ACTIONS = ["Deny", "Audit", "Warn"];

/** ValidatingPolicy and friends: spec.validationActions (Kyverno defaults to Deny when unset). */
function validatingPolicy(
    doc: YamlDocument,
    kind: string,
    spec: unknown,
    err: (line: number, msg: string) => void,
): { validationActions?: string[]; enforcement: Enforcement } {
    if (!isRecord(spec)) {
        err(doc.line, `${kind} has no spec; add spec.validations (and spec.validationActions)`);
        return { enforcement: "None" };
    }
    const va = spec.validationActions;
    if (va === undefined || va === null) return { enforcement: validationActionsEnforcement(undefined) };
    const line = findLine(doc, /^\s+validationActions:/);
    if (!Array.isArray(va) || va.length === 0 || va.some((a) => typeof a !== "string" || !VALIDATION_ACTIONS.includes(a))) {
        err(line, `spec.validationActions ${JSON.stringify(va)} is invalid; use a non-empty list of Deny, Audit, Warn`);
        return { enforcement: "None" };
    }
    if (new Set(va).size !== va.length) {
        err(line, `spec.validationActions ${JSON.stringify(va)} lists an action twice; list each action once`);
    }
    const actions = va as string[];
    return { validationActions: actions, enforcement: validationActionsEnforcement(actions) };
}
