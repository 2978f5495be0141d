/**
 * The `.dockerconfigjson` document `flux create secret oci` writes: one `auths` entry for the
 * registry host with username, password and their base64 `auth`.
 */
export function dockerConfigJson(host: string, username: string, password: string): string {
    const auth = Buffer.from(`${username}:${password}`, "utf8").toString("base64");
    return JSON.stringify({ auths: { [host]: { username, password, auth } } });
}
