import {createLogger, DEFAULT_LABEL_PROMPT, INPUT_FLAGS, OrchardError, pathForDisplay, prettyLogsFor, PROMPT_FLAGS, promptOptionsFromArgs, type GlobalCliOptions} from "@orchard/shared";
import type {CommandModule} from "yargs";
import {DEFAULT_BATCH_SIZE, DEFAULT_CONTEXT_SIZE, DEFAULT_ENGINE_CONTEXTS, PREFIX_REUSE_MODES, type EngineGpu, type EngineRoute, type PrefixReuse} from "../../engine/extraction-engine-options.ts";

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
    flashAttention: boolean;
    prefixReuse: string;
    seed?: number;
    progress: boolean;
    task: string;
    labels?: string;
    labelPrompt?: string;
    predictionsOutput?: string;
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
    },
    "flash-attention": {
        type: "boolean", default: true,
        describe: "llama.cpp flash attention (--no-flash-attention to turn it off); with --batch-size, --engine-route and --context-size, it fixes the bits of the attributes"
    },
    "prefix-reuse": {
        type: "string", choices: PREFIX_REUSE_MODES, default: "auto",
        describe: "auto: evaluate each prompt's shared prefix (BOS, [INST] header, prompt text) once per context and only each document's suffix " +
            "(one-pass route; a document whose tokens do not start with the prefix's is evaluated in full); off: every prompt in full"
    }
} as const;

export function engineOptionsFromArgs(args: {contextSize: number; batchSize: number; threads?: number; contexts: number; gpu: string; engineRoute: string; flashAttention?: boolean; prefixReuse?: string}) {
    return {
        contextSize: args.contextSize,
        batchSize: args.batchSize,
        ...(args.threads === undefined ? {} : {threads: args.threads}),
        contexts: args.contexts,
        gpu: (args.gpu === "false" ? false : args.gpu) as EngineGpu,
        route: args.engineRoute as EngineRoute,
        ...(args.flashAttention === undefined ? {} : {flashAttention: args.flashAttention}),
        ...(args.prefixReuse === undefined ? {} : {prefixReuse: args.prefixReuse as PrefixReuse})
    };
}

/** The classify task's flags (`orchard extract --task classify`). */
export const CLASSIFY_FLAGS = {
    "task": {
        type: "string", choices: ["extract", "classify"], default: "extract",
        describe: "extract: the re-ask's 32 attributes; classify: the model first picks one of --labels, then the re-ask asks about that label"
    },
    "labels": {type: "string", describe: "classify: label display names JSONL, {\"label\": 0, \"name\": \"...\"} per line (2 or more labels)"},
    "label-prompt": {
        type: "string",
        describe: `classify: stage-1 prompt template with {prompt}, {document}, {labels} (default: ${JSON.stringify(DEFAULT_LABEL_PROMPT)})`
    },
    "predictions-output": {
        type: "string",
        describe: "classify: predictions JSONL (default: --output with .attributes.jsonl replaced by .predictions.jsonl, else with .predictions.jsonl appended)"
    }
} as const;

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
        .options(CLASSIFY_FLAGS)
        .example("$0 extract --model models/tiny-f32-seed1.gguf --input scripts/sample-data/sentiment.jsonl --output out/sentiment.attributes.jsonl", "")
        .example("$0 extract --task classify --labels labels.jsonl --trailing-instruction \"Is the sentiment of the review {label_name}?\" --model models/tiny-f32-seed1.gguf --input reviews.jsonl --output out/reviews.attributes.jsonl",
            "multi-class: the model picks a label, then the re-ask asks about it (predictions in out/reviews.predictions.jsonl)") as never,
    handler: async (args) => {
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const classify = classifyOptionsFromArgs(args);
        const {createExtractProgressView} = await import("../extract-progress-view.ts");
        const logger = createLogger({level: args.logLevel, pretty: prettyLogsFor(args.logFormat), name: "orchard-extract"});
        const view = createExtractProgressView({enabled: args.progress});
        const options = {
            // messages name the files as pathForDisplay writes them (never ../../ out of the working directory)
            modelPath: pathForDisplay(args.model),
            inputPath: pathForDisplay(args.input),
            outputPath: pathForDisplay(args.output),
            ...promptOptionsFromArgs(args),
            overwrite: args.overwrite,
            maxLineBytes: args.maxLineBytes,
            engine: engineOptionsFromArgs(args),
            logger
        };
        const hooks = {onStart: view.start, onProgress: view.update};
        const summary = await (classify === undefined
            ? import("../../extract/extract-job.ts").then(({runExtract}) => runExtract(options, hooks))
            : import("../../classify/classify-job.ts").then(({runClassify}) => runClassify({...options, ...classify}, hooks))).finally(view.stop);
        if (summary.truncatedDocuments > 0)
            logger.warn({truncated: summary.truncatedDocuments}, `${summary.truncatedDocuments} documents were cut to fit the context (--truncate)`);
        process.stdout.write(
            `Documents: ${summary.documents} extracted` +
            (summary.resumedDocuments > 0 ? ` (+${summary.resumedDocuments} already done, ${summary.totalDocuments} in all)` : "") +
            ` -> ${pathForDisplay(args.output)}` + ("predictionsPath" in summary ? ` and ${summary.predictionsPath}` : "") + "\n" +
            `Tokens: ${summary.tokens}  Seconds: ${summary.seconds.toFixed(2)}  ` +
            `Tokens/s: ${summary.tokensPerSecond.toFixed(1)}  Documents/s: ${summary.documentsPerSecond.toFixed(2)}\n` +
            `Prefix reuse: ${summary.prefixReuse.reused} documents reused their prompt's prefix, ${summary.prefixReuse.full} evaluated in full` +
            (summary.prefixReuse.guarded > 0 ? ` (${summary.prefixReuse.guarded} by the token-boundary guard)` : "") + "\n");
    }
};

/** The classify task's options from the flags, or undefined for plain extraction; a classify flag without `--task classify` is a mistake. */
function classifyOptionsFromArgs(args: ExtractArgs): {labelsPath: string; labelPrompt?: string; predictionsPath?: string} | undefined {
    if (args.task !== "classify") {
        const stray = ([["--labels", args.labels], ["--label-prompt", args.labelPrompt], ["--predictions-output", args.predictionsOutput]] as const)
            .find(([, value]) => value !== undefined);
        if (stray !== undefined) throw new OrchardError("INVALID_ARGUMENT", `${stray[0]} is for --task classify: add --task classify, or leave it out`);
        return undefined;
    }
    if (args.labels === undefined)
        throw new OrchardError("INVALID_ARGUMENT", "--task classify needs --labels: a JSONL file of {\"label\": <integer>, \"name\": \"<text>\"}, one label per line");
    return {
        labelsPath: pathForDisplay(args.labels),
        labelPrompt: args.labelPrompt,
        predictionsPath: args.predictionsOutput === undefined ? undefined : pathForDisplay(args.predictionsOutput)
    };
}
