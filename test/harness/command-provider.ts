/**
 * A stand-in for `pulumi-resource-command` (the `@pulumi/command` provider) for the end-to-end run.
 *
 * Why it exists: the Go module proxy these machines reach does not serve
 * github.com/pulumi/pulumi-command/provider at any version, so the real provider cannot be built
 * here. This plugin serves `command:local:Command` as pulumi-command 1.2.1 behaves (the logic is in
 * command-local.ts) so that the program's components run unchanged through the real engine. Users
 * of the program get the real provider, which Pulumi installs itself.
 *
 * It is its own gRPC server rather than `pulumi.provider.main`, because the SDK's server neither
 * tells the engine it previews nor passes the preview flag on, and it logs through the engine's Log
 * call (ephemeral info messages of the resource, as pulumi-go-provider's `InfoStatus`), not through
 * the plugin's stderr (which the engine shows as the stack's own diagnostics).
 */
import { createRequire } from "node:module";
import * as crypto from "node:crypto";
import * as engrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engproto from "@pulumi/pulumi/proto/engine_pb";
import * as plugproto from "@pulumi/pulumi/proto/plugin_pb";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import type { sendUnaryData, ServerUnaryCall } from "@grpc/grpc-js";
import {
    checkFailures, createOutputs, diffInputs, inputsOf, plain, previousOutputs, runCommand, updatePreviewOutputs,
    type CommandInputs, type CommandOutputs, type Props,
} from "./command-local";

// The SDK's own gRPC and protobuf runtime (the instances its generated stubs use).
const sdkRequire = createRequire(require.resolve("@pulumi/pulumi"));
const grpc = sdkRequire("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const structproto = sdkRequire("google-protobuf/google/protobuf/struct_pb") as typeof import("google-protobuf/google/protobuf/struct_pb");
const emptyproto = sdkRequire("google-protobuf/google/protobuf/empty_pb") as typeof import("google-protobuf/google/protobuf/empty_pb");

const VERSION = "1.2.1";

type Struct = InstanceType<typeof structproto.Struct>;
const props = (s: Struct | undefined): Props => (s?.toJavaScript() ?? {}) as Props;
const struct = (p: Props): Struct => structproto.Struct.fromJavaScript(p as Parameters<typeof structproto.Struct.fromJavaScript>[0]);

/** The engine's address: the first argument that is not one of the flags the engine adds. */
function engineAddress(args: string[]): string | undefined {
    const rest = args.filter((a, i) => a !== "--logtostderr" && !a.startsWith("-v=") && a !== "--tracing" && args[i - 1] !== "--tracing");
    return rest[0];
}

/** Runs a command, sending each logged line to the engine as an ephemeral info message of `urn`. */
function makeRunner(engine: engrpc.EngineClient | undefined) {
    return async (urn: string, command: string, inputs: CommandInputs, previous?: CommandOutputs): Promise<CommandOutputs> => {
        let delivered = Promise.resolve();
        const log = (line: string) => {
            if (!engine) return;
            const req = new engproto.LogRequest().setSeverity(engproto.LogSeverity.INFO).setMessage(line).setUrn(urn).setEphemeral(true);
            delivered = delivered.then(() => new Promise<void>((resolve) => engine.log(req, () => resolve())));
        };
        try {
            return await runCommand(command, inputs, log, previous);
        } finally {
            await delivered; // as pulumi-command: the logs are out before the operation ends
        }
    };
}

/** pulumi-go-provider's `resource.NewUniqueHex(name, 8, 0)`. */
function newId(urn: string): string {
    return urn.split("::").pop() + crypto.randomBytes(4).toString("hex");
}

function unary<Req, Res>(handler: (req: Req) => Promise<Res>) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
        handler(call.request).then((res) => callback(null, res), (e: Error) => callback({ code: grpc.status.UNKNOWN, details: e.message }));
    };
}

async function main(): Promise<void> {
    const address = engineAddress(process.argv.slice(2));
    const run = makeRunner(address ? new engrpc.EngineClient(address, grpc.credentials.createInsecure()) : undefined);
    const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 }); // as the SDK's
    server.addService(provrpc.ResourceProviderService, {
        getPluginInfo: unary(async () => new plugproto.PluginInfo().setVersion(VERSION)),
        configure: unary(async () => new provproto.ConfigureResponse().setAcceptsecrets(true).setSupportspreview(true)),
        check: unary(async (req: provproto.CheckRequest) => {
            const failures = checkFailures(req.getUrn(), props(req.getNews())).map((f) => new provproto.CheckFailure().setProperty(f.property).setReason(f.reason));
            return new provproto.CheckResponse().setInputs(req.getNews()).setFailuresList(failures);
        }),
        diff: unary(async (req: provproto.DiffRequest) => {
            const { diffs, replaces } = diffInputs(req.hasOldInputs() ? props(req.getOldInputs()) : inputsOf(props(req.getOlds())), props(req.getNews()));
            const changes = diffs.length > 0 ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE;
            return new provproto.DiffResponse().setChanges(changes).setDiffsList(diffs).setReplacesList(replaces);
        }),
        create: unary(async (req: provproto.CreateRequest) => {
            const inputs = props(req.getProperties());
            const i = plain(inputs) as CommandInputs;
            const result = req.getPreview() ? "preview" : i.create ? await run(req.getUrn(), i.create, i) : { stdout: "", stderr: "" };
            return new provproto.CreateResponse().setId(newId(req.getUrn())).setProperties(struct(createOutputs(inputs, result)));
        }),
        update: unary(async (req: provproto.UpdateRequest) => {
            const olds = props(req.getOlds());
            const news = props(req.getNews());
            if (req.getPreview()) return new provproto.UpdateResponse().setProperties(struct(updatePreviewOutputs(olds, news)));
            const i = plain(news) as CommandInputs;
            const command = i.update ?? i.create;
            const previous = previousOutputs(olds);
            const result = command ? await run(req.getUrn(), command, i, previous) : previous;
            return new provproto.UpdateResponse().setProperties(struct({ ...news, ...result }));
        }),
        delete: unary(async (req: provproto.DeleteRequest) => {
            const state = props(req.getProperties());
            const p = plain(state) as CommandInputs;
            if (p.delete) await run(req.getUrn(), p.delete, p, previousOutputs(state));
            return new emptyproto.Empty();
        }),
        read: unary(async (req: provproto.ReadRequest) =>
            new provproto.ReadResponse().setId(req.getId()).setProperties(req.getProperties()).setInputs(req.getInputs())),
        cancel: unary(async () => new emptyproto.Empty()),
    });
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    console.log(String(port)); // the engine reads the port from the first line
}

main().catch((e: Error) => {
    console.error(e.stack ?? String(e));
    process.exit(1);
});
