/**
 * How the end-to-end harness turns a Kyverno Deployment into a local process: the container's
 * args and env as the pod would get them, plus only the out-of-cluster flags.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { controllerCommand } from "../support/kyverno-controllers";

/** The shape of the chart's admission-controller Deployment (chart 3.9.1, default values). */
const admission = {
    metadata: { name: "kyverno-admission-controller", namespace: "kyverno", generation: 1 },
    spec: {
        template: {
            spec: {
                containers: [{
                    name: "kyverno",
                    args: [
                        "--caSecretName=kyverno-svc.kyverno.svc.kyverno-tls-ca",
                        "--tlsSecretName=kyverno-svc.kyverno.svc.kyverno-tls-pair",
                        "--servicePort=443",
                        "--webhookServerPort=9443",
                        "--metricsPort=8000",
                        "--controllerRuntimeMetricsAddress=:8080",
                        "--admissionReports=true",
                        "--enableTracing",
                    ],
                    env: [
                        { name: "INIT_CONFIG", value: "kyverno" },
                        { name: "KYVERNO_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                        { name: "KYVERNO_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                        { name: "TUF_ROOT", value: "/.sigstore" },
                    ],
                }],
            },
        },
    },
};

describe("Kyverno controller command", () => {
    test("admission controller: the chart's args, the webhook on a loopback URL, free metrics ports", () => {
        const c = controllerCommand(admission, { kubeconfig: "/k/config", workDir: "/w", ports: [41000, 41001] });
        assert.deepEqual(c.args, [
            "--caSecretName=kyverno-svc.kyverno.svc.kyverno-tls-ca",
            "--tlsSecretName=kyverno-svc.kyverno.svc.kyverno-tls-pair",
            "--servicePort=443",
            "--webhookServerPort=41001",
            "--metricsPort=41000",
            "--controllerRuntimeMetricsAddress=0",
            "--admissionReports=true",
            "--enableTracing=true",
            "--kubeconfig=/k/config",
            "--metricsHost=127.0.0.1",
            "--serverIP=127.0.0.1:41001",
            "--webhookServerHost=127.0.0.1",
        ]);
        assert.equal(c.webhookPort, 41001);
        assert.deepEqual(c.env, { INIT_CONFIG: "kyverno", KYVERNO_NAMESPACE: "kyverno", KYVERNO_POD_NAME: "kyverno-admission-controller-local", TUF_ROOT: "/w/sigstore" });
    });

    test("reports controller: no webhook flags, no controller-runtime flag it does not define", () => {
        const reports = structuredClone(admission);
        reports.metadata.name = "kyverno-reports-controller";
        reports.spec.template.spec.containers[0].args = ["--metricsPort=8000", "--backgroundScan=true"];
        const c = controllerCommand(reports, { kubeconfig: "/k", workDir: "/w", ports: [1, 2] });
        assert.deepEqual(c.args, ["--metricsPort=1", "--backgroundScan=true", "--kubeconfig=/k", "--metricsHost=127.0.0.1"]);
        assert.equal(c.webhookPort, undefined);
    });

    test("an env value only a kubelet could resolve is an error, not a silent gap", () => {
        const odd = structuredClone(admission);
        (odd.spec.template.spec.containers[0].env as unknown[]).push({ name: "TOKEN", valueFrom: { secretKeyRef: { name: "s", key: "k" } } });
        assert.throws(() => controllerCommand(odd, { kubeconfig: "/k", workDir: "/w", ports: [1, 2] }), /cannot resolve env TOKEN outside a pod/);
    });
});
