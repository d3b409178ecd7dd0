import {createLogger, INPUT_FLAGS, pathForDisplay, prettyLogsFor, type GlobalCliOptions} from "@orchard/shared";
import type {CommandModule} from "yargs";
import {DEFAULT_BATCH_SIZE, DEFAULT_CONTEXT_SIZE, type EngineGpu} from "../../engine/extraction-engine-options.ts";
// light (node:crypto and shared only): the defaults are defined once, beside their resolution
import {DEFAULT_GENERATION_SAMPLING as D} from "../../generate/generation-settings.ts";

interface GenerateArgs extends GlobalCliOptions {
    model: string;
    input: string;
    output: string;
    template?: string;
    promptField?: string;
    system?: string;
    jsonSchema?: string;
    outputFormat: string;
    documentFrom?: string;
    labelFrom?: string;
    maxTokens: number;
    temperature: number;
    topP: number;
    topK: number;
    minP: number;
    repetitionPenalty: number;
    frequencyPenalty: number;
    presencePenalty: number;
    seed: number;
    overwrite: boolean;
    maxLineBytes: number;
    contextSize: number;
    batchSize: number;
    threads?: number;
    gpu: string;
}

/**
 * Sampling flags of generation, for `generate` now and the fleet's `run --task generate` later.
 * Defaults are llama.cpp's sampling defaults (see DEFAULT_GENERATION_SAMPLING).
 */
export const SAMPLING_FLAGS = {
    "max-tokens": {type: "number", default: D.maxTokens, describe: "Most tokens generated per document; a JSON value not closed by then is reported, never written"},
    "temperature": {type: "number", default: D.temperature, describe: "Sampling temperature; 0 is greedy"},
    "top-p": {type: "number", default: D.topP, describe: "Nucleus sampling; 1 disables it"},
    "top-k": {type: "number", default: D.topK, describe: "Top-k sampling; 0 disables it"},
    "min-p": {type: "number", default: D.minP, describe: "Min-p sampling; 0 disables it"},
    "repetition-penalty": {type: "number", default: D.repetitionPenalty, describe: "Repeat penalty over the last 64 tokens; 1 disables it"},
    "frequency-penalty": {type: "number", default: D.frequencyPenalty, describe: "Penalty per earlier occurrence of a token; 0 disables it"},
    "presence-penalty": {type: "number", default: D.presencePenalty, describe: "Penalty for any earlier occurrence of a token; 0 disables it"},
    "seed": {type: "number", default: D.seed, describe: "Run seed: each document samples with sha256(seed, id)'s first 4 bytes, whatever its position"}
} as const;

export const generateCommand: CommandModule<GlobalCliOptions, GenerateArgs> = {
    command: "generate",
    describe: "Generate a completion for every line of a JSONL file in this process (Mixtral chat format; optional JSON schema)",
    builder: (yargs) => yargs
        .option("model", {alias: "model-path", type: "string", demandOption: true, describe: "Mixtral GGUF file"})
        .option("input", {type: "string", demandOption: true, describe: "Input JSONL: an \"id\" and the fields the message uses, per line"})
        .option("output", {type: "string", demandOption: true, describe: "Output JSONL (resumed if it exists), e.g. <input>.generated.jsonl"})
        .option("template", {type: "string", describe: "User message with {field} placeholders filled from each line ({{ and }} for literal braces)"})
        .option("prompt-field", {type: "string", describe: "Input field holding each line's user message (instead of --template)"})
        .option("system", {type: "string", describe: "Text put before each user message, a blank line between (Mixtral has no system role)"})
        .option("json-schema", {type: "string", describe: "JSON schema file: every completion is constrained to it; the parsed value goes in \"json\""})
        .option("output-format", {type: "string", choices: ["generated", "reexpress"], default: "generated", describe: "generated: input fields + completion, json, finish, tokens; reexpress: id, label, document"})
        .option("document-from", {type: "string", describe: "reexpress: the document is the \"completion\" (default) or \"json.<field>\""})
        .option("label-from", {type: "string", describe: "reexpress: the integer label is an input field or \"json.<field>\""})
        .options(SAMPLING_FLAGS)
        .options(INPUT_FLAGS)
        .option("overwrite", {type: "boolean", default: false, describe: "Replace an existing output instead of resuming it (sampling settings are not recorded in it)"})
        .option("context-size", {type: "number", default: DEFAULT_CONTEXT_SIZE, describe: "Context size in tokens: the prompt plus --max-tokens must fit"})
        .option("batch-size", {type: "number", default: DEFAULT_BATCH_SIZE, describe: "Tokens per llama.cpp decode batch"})
        .option("threads", {type: "number", describe: "CPU threads for llama.cpp (default: all cores)"})
        .option("gpu", {type: "string", choices: ["auto", "metal", "cuda", "vulkan", "false"], default: "auto", describe: "GPU backend (Metal is picked automatically on Apple Silicon)"})
        .example("$0 generate --model models/tiny-f32-seed1.gguf --input labels.jsonl --output labels.jsonl.generated.jsonl --template \"Write a {name} movie review.\" --json-schema review.schema.json", "") as never,
    handler: async (args) => {
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const {runGenerate, incompleteGenerationError} = await import("../../generate/generate-job.ts");
        const logger = createLogger({level: args.logLevel, pretty: prettyLogsFor(args.logFormat), name: "orchard-generate"});
        const inputPath = pathForDisplay(args.input);
        const outputPath = pathForDisplay(args.output);
        const summary = await runGenerate({
            modelPath: pathForDisplay(args.model),
            inputPath,
            outputPath,
            template: args.template,
            promptField: args.promptField,
            system: args.system,
            jsonSchemaPath: args.jsonSchema === undefined ? undefined : pathForDisplay(args.jsonSchema),
            outputFormat: args.outputFormat as "generated" | "reexpress",
            documentFrom: args.documentFrom,
            labelFrom: args.labelFrom,
            maxTokens: args.maxTokens,
            temperature: args.temperature,
            topP: args.topP,
            topK: args.topK,
            minP: args.minP,
            repetitionPenalty: args.repetitionPenalty,
            frequencyPenalty: args.frequencyPenalty,
            presencePenalty: args.presencePenalty,
            seed: args.seed,
            overwrite: args.overwrite,
            maxLineBytes: args.maxLineBytes,
            contextSize: args.contextSize,
            batchSize: args.batchSize,
            threads: args.threads,
            gpu: (args.gpu === "false" ? false : args.gpu) as EngineGpu,
            logger
        });
        process.stdout.write(
            `Documents: ${summary.documents} generated` +
            (summary.resumedDocuments > 0 ? ` (after ${summary.resumedDocuments} already done, ${summary.totalDocuments} in all)` : "") +
            (summary.failures.length > 0 ? `, ${summary.failures.length} failed` : "") +
            ` -> ${outputPath}\n` +
            `Tokens: ${summary.promptTokens} prompt, ${summary.completionTokens} generated  Seconds: ${summary.seconds.toFixed(2)}  ` +
            `Generated tokens/s: ${summary.tokensPerSecond.toFixed(1)}\n`);
        if (summary.failures.length > 0) throw incompleteGenerationError(inputPath, outputPath, summary.failures);
    }
};
