import {resolveMaxLineBytes, resolvePromptSettings, type Logger, type PromptOptions, type PromptSettings} from "@orchard/shared";
import type {ExtractionEngineOptions} from "../engine/extraction-engine-options.ts";

/** `orchard extract`'s options: the prompt settings shared with the fleet's `run`, plus these. */
export interface ExtractOptions extends PromptOptions {
    readonly modelPath: string;
    readonly inputPath: string;
    readonly outputPath: string;
    /** Cut documents whose prompt exceeds the context instead of failing. Default false. */
    readonly truncate?: boolean;
    /** Replace an output that belongs to another input instead of failing. Default false. */
    readonly overwrite?: boolean;
    /** Longest input line accepted, in bytes. Default DEFAULT_MAX_LINE_BYTES (8 MiB). */
    readonly maxLineBytes?: number;
    /** Engine settings other than the model path. */
    readonly engine?: Omit<ExtractionEngineOptions, "modelPath" | "logger">;
    readonly logger?: Logger;
}

export interface ResolvedExtractOptions {
    readonly modelPath: string;
    readonly inputPath: string;
    readonly outputPath: string;
    readonly prompt: PromptSettings;
    readonly truncate: boolean;
    readonly overwrite: boolean;
    readonly maxLineBytes: number;
    readonly engine: ExtractionEngineOptions;
    readonly logger: Logger | undefined;
}

/** Defined in shared (the fleet's `run` resolves the same settings); re-exported for existing importers. */
export {resolvePromptSettings};

export function resolveExtractOptions(options: ExtractOptions): ResolvedExtractOptions {
    return {
        modelPath: options.modelPath,
        inputPath: options.inputPath,
        outputPath: options.outputPath,
        prompt: resolvePromptSettings(options),
        truncate: options.truncate ?? false,
        overwrite: options.overwrite ?? false,
        maxLineBytes: resolveMaxLineBytes(options.maxLineBytes),
        engine: {...options.engine, modelPath: options.modelPath, ...(options.logger ? {logger: options.logger} : {})},
        logger: options.logger
    };
}
