import {createLogger, GENERATION_FLAGS, INPUT_FLAGS, SAMPLING_FLAGS, pathForDisplay, prettyLogsFor, type GlobalCliOptions} from "@orchard/shared";
import type {CommandModule} from "yargs";
import {DEFAULT_BATCH_SIZE, DEFAULT_CONTEXT_SIZE, type EngineGpu} from "../../engine/extraction-engine-options.ts";

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


export const generateCommand: CommandModule<GlobalCliOptions, GenerateArgs> = {
    command: "generate",
    describe: "Generate a completion for every line of a JSONL file in this process (Mixtral chat format; optional JSON schema)",
    builder: (yargs) => yargs
        .option("model", {alias: "model-path", type: "string", demandOption: true, describe: "Mixtral GGUF file"})
        .option("input", {type: "string", demandOption: true, describe: "Input JSONL: an \"id\" and the fields the message uses, per line"})
        .option("output", {type: "string", demandOption: true, describe: "Output JSONL (resumed if it exists), e.g. <input>.generated.jsonl"})
        .options(GENERATION_FLAGS)
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
