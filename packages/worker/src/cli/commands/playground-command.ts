import {
    createLogger, embeddedRedisUrl, FLEET_CONNECTION_FLAGS, readLiveEmbeddedRedisEndpoint, DEFAULT_DASHBOARD_HOST, DEFAULT_PLAYGROUND_PORT, DEFAULT_MAX_DOCUMENT_CHARS, OrchardError, pathForDisplay, prettyLogsFor, readOrchardEnvironment, resolveWebListen,
    resolveWebToken, webServerFlags, type GlobalCliOptions
} from "@orchard/shared";
import type {CommandModule} from "yargs";
import {ENGINE_FLAGS, engineOptionsFromArgs} from "./extract-command.ts";

interface PlaygroundArgs extends GlobalCliOptions {
    model: string;
    port: number;
    host: string;
    token?: string;
    tokenFile?: string;
    maxDocumentChars: number;
    contextSize: number;
    batchSize: number;
    threads?: number;
    contexts: number;
    gpu: string;
    engineRoute: string;
    flashAttention?: boolean;
    prefixReuse: string;
    redis?: string;
    redisPrefix: string;
    stateDir: string;
}

export const playgroundCommand: CommandModule<GlobalCliOptions, PlaygroundArgs> = {
    command: "playground",
    describe: "Serve a page for one document at a time, with a model loaded once: re-ask a document (answer, P(Yes), the 32 attributes, the Reexpress line), or chat with it",
    builder: (yargs) => yargs
        .option("model", {alias: "model-path", type: "string", demandOption: true, describe: "Mixtral GGUF file"})
        .options(webServerFlags({service: "playground", defaultPort: DEFAULT_PLAYGROUND_PORT, defaultHost: DEFAULT_DASHBOARD_HOST, environmentName: "ORCHARD_PLAYGROUND_TOKEN"}))
        .option("max-document-chars", {
            alias: "max_document_chars", type: "number", default: DEFAULT_MAX_DOCUMENT_CHARS,
            describe: "Documents are stripped and cut to this many characters, as extract cuts them"
        })
        .options({...ENGINE_FLAGS, contexts: {...ENGINE_FLAGS.contexts, default: 1, describe: "Contexts of the engine (requests take turns; extract's --contexts, to compare bit for bit)"}})
        .options({
            ...FLEET_CONNECTION_FLAGS,
            redis: {...FLEET_CONNECTION_FLAGS.redis, describe: `${FLEET_CONNECTION_FLAGS.redis.describe}. Optional: the recent runs' prompts become presets`}
        })
        .example("$0 playground --model models/tiny-f32-seed1.gguf", "http://127.0.0.1:8421/")
        .example("$0 playground --model models/mixtral.gguf --redis redis://fleet-host:6379", "the presets include the prompts of the fleet's recent runs")
        .example("ORCHARD_PLAYGROUND_TOKEN=$(openssl rand -hex 16) $0 playground --model mixtral.gguf --host 0.0.0.0", "reachable from a phone on the LAN") as never,
    handler: async (args) => {
        const environment = readOrchardEnvironment();
        const logger = createLogger({level: args.logLevel, pretty: prettyLogsFor(args.logFormat), name: "orchard-playground"});
        const token = resolveWebToken({
            service: "playground", environmentName: "ORCHARD_PLAYGROUND_TOKEN", flag: "--token", value: args.token, fileFlag: "--token-file", file: args.tokenFile,
            environment: environment.playgroundToken
        }, logger);
        // a public address without a token, or a bad port, fails before the model loads
        resolveWebListen({service: "playground", host: args.host, port: args.port, token, tokenHint: "--token-file (or ORCHARD_PLAYGROUND_TOKEN)"});
        if (!Number.isInteger(args.maxDocumentChars) || args.maxDocumentChars <= 0)
            throw new OrchardError("INVALID_ARGUMENT", `--max-document-chars must be a positive integer (got ${args.maxDocumentChars})`);
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const [{ExtractionEngine}, {PlaygroundServer}] = await Promise.all([import("../../engine/extraction-engine.ts"), import("../../playground/playground-server.ts")]);
        // the fleet's Redis only when named or found: without one the playground works as before
        const redisUrl = args.redis ?? environment.redisUrl ?? await readLiveEmbeddedRedisEndpoint(args.stateDir).then((endpoint) => endpoint === undefined ? undefined : embeddedRedisUrl(endpoint));
        await using engine = await ExtractionEngine.load({modelPath: pathForDisplay(args.model), ...engineOptionsFromArgs(args), logger});
        await using server = await PlaygroundServer.start({
            engine, host: args.host, port: args.port, maxDocumentChars: args.maxDocumentChars, logger, ...(token === undefined ? {} : {token}),
            ...(redisUrl === undefined ? {} : {fleet: {redisUrl, keyPrefix: args.redisPrefix}}),
            chat: {
                modelPath: engine.options.modelPath, contextSize: args.contextSize, batchSize: args.batchSize, gpu: engine.options.gpu, logger,
                ...(args.threads === undefined ? {} : {threads: args.threads})
            }
        });
        process.stdout.write(`Playground: ${server.url}/${token === undefined ? "" : "   (first visit: append ?token=<your token>)"}\n`);
        await new Promise<void>((resolve) => {
            process.once("SIGINT", resolve);
            process.once("SIGTERM", resolve);
        });
        logger.info("stopping the playground");
    }
};
