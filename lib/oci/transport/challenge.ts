/** `WWW-Authenticate` parsing: which schemes a registry offers, and their parameters. */

/** One parsed `WWW-Authenticate` challenge. */
export interface Challenge {
    scheme: string; // lower case: "basic", "bearer"
    params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header value into challenges. Handles quoted values containing
 * commas (`scope="repository:a:pull,push"`) and several challenges in one header.
 */
export function parseWwwAuthenticate(header: string | string[] | undefined): Challenge[] {
    if (!header) return [];
    const values = Array.isArray(header) ? header : [header];
    const out: Challenge[] = [];
    for (const value of values) {
        let i = 0;
        let current: Challenge | undefined;
        while (i < value.length) {
            while (i < value.length && (value[i] === " " || value[i] === ",")) i++;
            const tokenMatch = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/.exec(value.slice(i));
            if (!tokenMatch) break;
            const token = tokenMatch[0];
            i += token.length;
            while (value[i] === " ") i++;
            if (value[i] === "=") {
                // auth-param of the current challenge
                i++;
                while (value[i] === " ") i++;
                let v = "";
                if (value[i] === '"') {
                    i++;
                    while (i < value.length && value[i] !== '"') {
                        if (value[i] === "\\" && i + 1 < value.length) i++;
                        v += value[i];
                        i++;
                    }
                    i++; // closing quote
                } else {
                    const m = /^[^,\s]*/.exec(value.slice(i));
                    v = m ? m[0] : "";
                    i += v.length;
                }
                if (current) current.params[token.toLowerCase()] = v;
            } else {
                current = { scheme: token.toLowerCase(), params: {} };
                out.push(current);
            }
        }
    }
    return out;
}
