import {createLogger, INPUT_FLAGS, pathForDisplay, prettyLogsFor, PROMPT_FLAGS, promptOptionsFromArgs, type GlobalCliOptions} from "@orchard/shared";
import type {CommandModule} from "yargs";
import {DEFAULT_BATCH_SIZE, DEFAULT_CONTEXT_SIZE, DEFAULT_ENGINE_CONTEXTS, type EngineGpu, type EngineRoute} from "../../engine/extraction-engine-options.ts";

interface ExtractArgs extends GlobalCliOptions {
    model: string;
    input: string;
    output: string;
    promptText: string;
    trailingInstruction: string;
    useJsonPrompt: boolean;
    combinePromptAndDocument: boolean;
    dropPrompt: boolean;
    maxDocumentChars: number;
    truncate: boolean;
    overwrite: boolean;
    maxLineBytes: number;
    contextSize: number;
    batchSize: number;
    threads?: number;
    contexts: number;
    gpu: string;
    engineRoute: string;
    seed?: number;
    progress: boolean;
}

/** Flags shared by `extract` and the fleet's `run` (defined in shared, re-exported for existing importers). */
export {PROMPT_FLAGS};

/** Flags that shape the extraction engine (worker side). */
export const ENGINE_FLAGS = {
    "context-size": {type: "number", default: DEFAULT_CONTEXT_SIZE, describe: "Context size in tokens: the longest prompt that fits"},
    "batch-size": {type: "number", default: DEFAULT_BATCH_SIZE, describe: "Tokens per llama.cpp decode batch"},
    "threads": {type: "number", describe: "CPU threads for llama.cpp (default: all cores)"},
    "contexts": {
        type: "number", default: DEFAULT_ENGINE_CONTEXTS,
        describe: "Documents evaluated concurrently, each in its own context (on CPU they share --threads)"
    },
    "gpu": {type: "string", choices: ["auto", "metal", "cuda", "vulkan", "false"], default: "auto", describe: "GPU backend (Metal is picked automatically on Apple Silicon)"},
    "engine-route": {
        type: "string", choices: ["auto", "one-pass", "three-pass"], default: "auto",
        describe: "one-pass reads logits and hidden states from one forward pass (node-llama-cpp internals); three-pass uses public API only"
    }
} as const;

export function engineOptionsFromArgs(args: {contextSize: number; batchSize: number; threads?: number; contexts: number; gpu: string; engineRoute: string}) {
    return {
        contextSize: args.contextSize,
        batchSize: args.batchSize,
        ...(args.threads === undefined ? {} : {threads: args.threads}),
        contexts: args.contexts,
        gpu: (args.gpu === "false" ? false : args.gpu) as EngineGpu,
        route: args.engineRoute as EngineRoute
    };
}

export const extractCommand: CommandModule<GlobalCliOptions, ExtractArgs> = {
    command: "extract",
    describe: "Compute the 32 attributes of every document of a JSONL file in this process (no Redis)",
    builder: (yargs) => yargs
        .option("model", {alias: "model-path", type: "string", demandOption: true, describe: "Mixtral GGUF file"})
        .option("input", {alias: "input_filename", type: "string", demandOption: true, describe: "Input JSONL: id, label, document [, prompt, info, group]"})
        .option("output", {alias: "output_jsonl_file", type: "string", demandOption: true, describe: "Output JSONL (resumed if it exists)"})
        .options(PROMPT_FLAGS)
        .options(INPUT_FLAGS)
        .option("overwrite", {type: "boolean", default: false, describe: "Replace an existing output that belongs to another input or settings"})
        .options(ENGINE_FLAGS)
        .option("seed", {type: "number", describe: "Accepted for the seed script's commands; extraction is deterministic, so it has no effect"})
        .option("progress", {type: "boolean", default: true, describe: "Progress bar on a TTY (--no-progress to hide)"})
        .example("$0 extract --model models/tiny-f32-seed1.gguf --input scripts/sample-data/sentiment.jsonl --output out/sentiment.attributes.jsonl", "") as never,
    handler: async (args) => {
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const [{runExtract}, {createExtractProgressView}] = await Promise.all([import("../../extract/extract-job.ts"), import("../extract-progress-view.ts")]);
        const logger = createLogger({level: args.logLevel, pretty: prettyLogsFor(args.logFormat), name: "orchard-extract"});
        const view = createExtractProgressView({enabled: args.progress});
        const summary = await runExtract({
            // messages name the files as pathForDisplay writes them (never ../../ out of the working directory)
            modelPath: pathForDisplay(args.model),
            inputPath: pathForDisplay(args.input),
            outputPath: pathForDisplay(args.output),
            ...promptOptionsFromArgs(args),
            overwrite: args.overwrite,
            maxLineBytes: args.maxLineBytes,
            engine: engineOptionsFromArgs(args),
            logger
        }, {onStart: view.start, onProgress: view.update}).finally(view.stop);
        if (summary.truncatedDocuments > 0)
            logger.warn({truncated: summary.truncatedDocuments}, `${summary.truncatedDocuments} documents were cut to fit the context (--truncate)`);
        process.stdout.write(
            `Documents: ${summary.documents} extracted` +
            (summary.resumedDocuments > 0 ? ` (+${summary.resumedDocuments} already done, ${summary.totalDocuments} in all)` : "") +
            ` -> ${pathForDisplay(args.output)}\n` +
            `Tokens: ${summary.tokens}  Seconds: ${summary.seconds.toFixed(2)}  ` +
            `Tokens/s: ${summary.tokensPerSecond.toFixed(1)}  Documents/s: ${summary.documentsPerSecond.toFixed(2)}\n`);
    }
};
