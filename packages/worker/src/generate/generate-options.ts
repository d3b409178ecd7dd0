import {
    resolveGenerationTask, resolveMaxLineBytes, type GenerateOutput, type GenerateOutputFormat, type GenerationSamplingOptions, type Logger, type MessageSource,
    type ResolvedGenerationSampling
} from "@orchard/shared";
import type {EngineGpu} from "../engine/extraction-engine-options.ts";

/** `orchard generate`'s options. */
export interface GenerateOptions extends GenerationSamplingOptions {
    readonly modelPath: string;
    readonly inputPath: string;
    readonly outputPath: string;
    /** The user message with `{field}` placeholders; exactly one of template and promptField. */
    readonly template?: string;
    /** The input field holding each line's user message. */
    readonly promptField?: string;
    /** Text put before every user message (Mixtral has no system role; see GenerationRequest.system). */
    readonly system?: string;
    /** Path of a JSON schema constraining every completion. */
    readonly jsonSchemaPath?: string;
    /** Default "generated". */
    readonly outputFormat?: GenerateOutputFormat;
    /** reexpress: "completion" (default) or "json.<field>". */
    readonly documentFrom?: string;
    /** reexpress (required): an input field or "json.<field>" holding an integer label. */
    readonly labelFrom?: string;
    /** Replace an output that is not this input's instead of failing. Default false. */
    readonly overwrite?: boolean;
    /** Longest input line, in bytes. Default 8 MiB. */
    readonly maxLineBytes?: number;
    readonly contextSize?: number;
    readonly batchSize?: number;
    readonly threads?: number;
    readonly gpu?: EngineGpu;
    readonly logger?: Logger;
}

export interface ResolvedGenerateOptions {
    readonly modelPath: string;
    readonly inputPath: string;
    readonly outputPath: string;
    readonly source: MessageSource;
    readonly system: string;
    readonly jsonSchemaPath: string | undefined;
    readonly sampling: ResolvedGenerationSampling;
    readonly output: GenerateOutput;
    readonly overwrite: boolean;
    readonly maxLineBytes: number;
    readonly contextSize: number | undefined;
    readonly batchSize: number | undefined;
    readonly threads: number | undefined;
    readonly gpu: EngineGpu;
    readonly logger: Logger | undefined;
}

/** Checks the flags against each other before anything is read or loaded. */
export function resolveGenerateOptions(options: GenerateOptions): ResolvedGenerateOptions {
    const {source, system, sampling, output} = resolveGenerationTask({...options, withJsonSchema: options.jsonSchemaPath !== undefined});
    return {
        modelPath: options.modelPath,
        inputPath: options.inputPath,
        outputPath: options.outputPath,
        source,
        system,
        jsonSchemaPath: options.jsonSchemaPath,
        sampling,
        output,
        overwrite: options.overwrite ?? false,
        maxLineBytes: resolveMaxLineBytes(options.maxLineBytes),
        contextSize: options.contextSize,
        batchSize: options.batchSize,
        threads: options.threads,
        gpu: options.gpu ?? "auto",
        logger: options.logger
    };
}
