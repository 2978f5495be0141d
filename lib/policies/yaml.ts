/**
 * Safe, line-aware YAML parsing for policy files.
 *
 * Why not just `yaml.loadAll`: we need the line each document starts on (for messages and for
 * `Policy.line`), and we must bound alias expansion. js-yaml resolves aliases by sharing object
 * references, so parsing a "billion laughs" document is cheap — but anything that serialises it
 * afterwards (our canonical digest, JSON.stringify, kustomize in the cluster) would expand it. We
 * therefore measure the expanded size of every document and reject it past a limit.
 */
import * as yaml from "js-yaml";

/**
 * YAML 1.2 core schema plus merge keys (`<<`), which Kubernetes' YAML decoder also honours.
 * Deliberately no timestamp/binary/set/omap types: the API server sees plain strings there, and
 * a `Date` object would change what we digest and ship.
 */
const jsyamlTypes = (yaml as unknown as { types: Record<string, yaml.Type> }).types;
export const POLICY_YAML_SCHEMA: yaml.Schema = yaml.CORE_SCHEMA.extend([jsyamlTypes.merge]);

/** Default cap on the expanded node count of one document (aliases counted every time used). */
export const DEFAULT_MAX_EXPANDED_NODES = 250_000;

export interface YamlDocument {
    /** 0-based index among the file's non-empty documents. */
    index: number;
    /** 1-based line of the document's first content line. */
    line: number;
    /** Parsed value (object, array, scalar or null). */
    value: unknown;
    /** 1-based line of the document's first text line (its `---` marker, if any). */
    firstLine: number;
    /** The document's text lines, for locating keys in messages. */
    lines: string[];
}

/**
 * Best-effort 1-based line of the first line at or after `from` (1-based) matching `re` within a
 * document; falls back to the document's content line. Used only to point messages at a key.
 */
export function findLine(doc: YamlDocument, re: RegExp, from?: number): number {
    const start = Math.max(0, (from ?? doc.firstLine) - doc.firstLine);
    for (let i = start; i < doc.lines.length; i++) if (re.test(doc.lines[i])) return doc.firstLine + i;
    return doc.line;
}

export interface YamlProblem {
    /** 1-based line, when known. */
    line?: number;
    cause: "invalid-yaml" | "yaml-bomb";
    /** What is wrong; the cause's fix is added by the caller (see lib/policies/problems.ts). */
    detail: string;
}

/**
 * Returns the byte offset of the first invalid UTF-8 sequence, or -1 if the buffer is valid.
 * Overlong forms, surrogates and code points above U+10FFFF are invalid (as TextDecoder fatal).
 */
export function findInvalidUtf8(buf: Uint8Array): number {
    let i = 0;
    const n = buf.length;
    while (i < n) {
        const b = buf[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        let need: number;
        let min: number;
        let cp: number;
        if (b >= 0xc2 && b <= 0xdf) {
            need = 1;
            min = 0x80;
            cp = b & 0x1f;
        } else if (b >= 0xe0 && b <= 0xef) {
            need = 2;
            min = 0x800;
            cp = b & 0x0f;
        } else if (b >= 0xf0 && b <= 0xf4) {
            need = 3;
            min = 0x10000;
            cp = b & 0x07;
        } else {
            return i;
        }
        for (let k = 1; k <= need; k++) {
            const c = buf[i + k];
            if (c === undefined || (c & 0xc0) !== 0x80) return i;
            cp = (cp << 6) | (c & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
        i += need + 1;
    }
    return -1;
}

/** 1-based line number of a byte offset. */
export function lineOfByteOffset(buf: Uint8Array, offset: number): number {
    let line = 1;
    for (let i = 0; i < offset && i < buf.length; i++) if (buf[i] === 0x0a) line++;
    return line;
}

interface Chunk {
    /** 0-based line index where the chunk's text starts. */
    startLine: number;
    text: string;
}

/**
 * Splits a YAML stream into documents by `---`/`...` marker lines. At column 0 these can only be
 * document markers (YAML forbids them inside scalars there), so a line scan is exact and gives us
 * each document's starting line without a second parser.
 */
function splitDocuments(text: string): Chunk[] {
    const lines = text.split("\n");
    const chunks: Chunk[] = [];
    let cur: string[] = [];
    let start = 0;
    const flush = (nextStart: number) => {
        chunks.push({ startLine: start, text: cur.join("\n") });
        cur = [];
        start = nextStart;
    };
    for (let i = 0; i < lines.length; i++) {
        const l = lines[i];
        if (/^---(?:[ \t\r]|$)/.test(l)) {
            flush(i);
            cur.push(l); // kept: content may follow the marker on the same line
        } else if (/^\.\.\.(?:[ \t\r]|$)/.test(l)) {
            flush(i + 1);
        } else {
            cur.push(l);
        }
    }
    flush(lines.length);
    return chunks;
}

/** First line (0-based, within the chunk) that holds content, or -1 when the chunk is empty. */
function firstContentLine(chunk: string): number {
    const lines = chunk.split("\n");
    for (let i = 0; i < lines.length; i++) {
        let l = lines[i].replace(/\r$/, "");
        if (i === 0) l = l.replace(/^\uFEFF/, "");
        if (/^---(?:[ \t]|$)/.test(l)) l = l.slice(3);
        const t = l.trim();
        if (t === "" || t.startsWith("#") || t.startsWith("%")) continue;
        return i;
    }
    return -1;
}

/**
 * Counts the nodes a document would have once every alias is expanded, memoising per shared object
 * so the count itself stays linear in the parsed size. Cycles (not producible by js-yaml today) are
 * treated as infinite.
 */
export function expandedNodeCount(value: unknown, limit: number): number {
    const memo = new Map<object, number>();
    const active = new Set<object>();
    const visit = (v: unknown): number => {
        if (v === null || typeof v !== "object") return 1;
        const seen = memo.get(v);
        if (seen !== undefined) return seen;
        if (active.has(v)) return Infinity;
        active.add(v);
        let total = 1;
        const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
        for (const c of children) {
            total += visit(c);
            if (total > limit) break;
        }
        active.delete(v);
        memo.set(v, total);
        return total;
    };
    return visit(value);
}

/**
 * Parses every non-empty document of a YAML file.
 * @returns documents and problems; a document that fails to parse is reported and skipped.
 */
export function parseYamlDocuments(
    text: string,
    opts: { maxExpandedNodes?: number } = {},
): { documents: YamlDocument[]; problems: YamlProblem[] } {
    const limit = opts.maxExpandedNodes ?? DEFAULT_MAX_EXPANDED_NODES;
    const documents: YamlDocument[] = [];
    const problems: YamlProblem[] = [];
    for (const chunk of splitDocuments(text)) {
        const contentAt = firstContentLine(chunk.text);
        if (contentAt < 0) continue;
        const line = chunk.startLine + contentAt + 1;
        let value: unknown;
        try {
            value = yaml.load(chunk.text, { schema: POLICY_YAML_SCHEMA });
        } catch (e) {
            if (e instanceof yaml.YAMLException) {
                const at = e.mark ? chunk.startLine + e.mark.line + 1 : line;
                problems.push({ line: at, cause: "invalid-yaml", detail: `invalid YAML: ${e.reason}` });
                continue;
            }
            throw e;
        }
        if (value === null || value === undefined) continue;
        const count = expandedNodeCount(value, limit);
        if (count > limit) {
            problems.push({
                line,
                cause: "yaml-bomb",
                detail:
                    `document expands to more than ${limit} YAML nodes through aliases (possible "YAML bomb"); ` +
                    `write the content out without anchors/aliases or raise maxExpandedNodes`,
            });
            continue;
        }
        documents.push({ index: documents.length, line, value, firstLine: chunk.startLine + 1, lines: chunk.text.split("\n") });
    }
    return { documents, problems };
}
