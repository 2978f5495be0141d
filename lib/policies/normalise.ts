/**
 * Normalisation used for content digests: two documents that mean the same thing to the API
 * server (key order, comments, quoting style, CRLF line ends, anchors) get the same digest.
 */
import { sha256Digest } from "../oci/digest";

/**
 * Canonical JSON: object keys sorted (UTF-16 code unit order), no whitespace. Non-finite numbers
 * (YAML `.inf`, `.nan`) are written as bare tokens so they do not collide with `null`.
 */
export function canonicalJson(value: unknown): string {
    if (value === null || value === undefined) return "null";
    switch (typeof value) {
        case "number":
            return Number.isFinite(value) ? JSON.stringify(value) : String(value);
        case "string":
        case "boolean":
            return JSON.stringify(value);
        case "bigint":
            return value.toString();
        case "object": {
            if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
            const obj = value as Record<string, unknown>;
            const keys = Object.keys(obj).sort();
            return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
        }
        default:
            throw new TypeError(`cannot canonicalise a ${typeof value}`);
    }
}

/** "sha256:<hex>" of a byte string: the one helper of lib/oci/digest.ts. */
export { sha256Digest };

/** "sha256:<hex>" of the canonical JSON of a value. */
export function digestOf(value: unknown): string {
    return sha256Digest(canonicalJson(value));
}
