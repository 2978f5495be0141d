import * as fs from "node:fs";
import * as path from "node:path";

import { runOk } from "./processes";

/** Files of a throw-away CA and a server certificate for 127.0.0.1 / localhost / ::1. */
export interface TestCerts {
    caCert: string;
    caKey: string;
    serverCert: string;
    serverKey: string;
    /** Directory holding only `ca.crt`: what `skopeo --cert-dir` wants. */
    certDir: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
    await runOk("openssl", args, { cwd });
}

/**
 * Makes a CA and a server certificate signed by it with openssl, in `dir`. The server certificate
 * carries SANs for every loopback name, since Go and Node check SANs, never the CN.
 */
export async function makeTestCerts(dir: string): Promise<TestCerts> {
    fs.mkdirSync(dir, { recursive: true });
    await openssl(
        [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
            "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=policy-stack test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ],
        dir,
    );
    await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-sha256", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"], dir);
    fs.writeFileSync(
        path.join(dir, "server.ext"),
        [
            "basicConstraints=CA:FALSE",
            "keyUsage=critical,digitalSignature,keyEncipherment",
            "extendedKeyUsage=serverAuth",
            "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:::1",
            "",
        ].join("\n"),
    );
    await openssl(
        ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-sha256", "-days", "2", "-out", "server.crt", "-extfile", "server.ext"],
        dir,
    );
    const certDir = path.join(dir, "skopeo-certs");
    fs.mkdirSync(certDir, { recursive: true });
    fs.copyFileSync(path.join(dir, "ca.crt"), path.join(certDir, "ca.crt"));
    return {
        caCert: path.join(dir, "ca.crt"),
        caKey: path.join(dir, "ca.key"),
        serverCert: path.join(dir, "server.crt"),
        serverKey: path.join(dir, "server.key"),
        certDir,
    };
}

/** A self-signed RSA certificate + key for signing registry tokens (rootcertbundle + x5c). */
export async function makeSigningCert(dir: string): Promise<{ cert: string; key: string }> {
    fs.mkdirSync(dir, { recursive: true });
    await openssl(
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2", "-keyout", "token.key", "-out", "token.crt", "-subj", "/CN=policy-stack test token issuer"],
        dir,
    );
    return { cert: path.join(dir, "token.crt"), key: path.join(dir, "token.key") };
}
