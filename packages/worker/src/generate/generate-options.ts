import {OrchardError, resolveMaxLineBytes, type Logger} from "@orchard/shared";
import type {EngineGpu} from "../engine/extraction-engine-options.ts";
import {GENERATE_OUTPUT_FORMATS, parseValueSource, type GenerateOutputFormat, type ValueSource} from "./generate-output-line.ts";
import type {MessageSource} from "./generate-input.ts";
import {resolveGenerationSampling, type GenerationSamplingOptions, type ResolvedGenerationSampling} from "./generation-settings.ts";
import {PromptTemplate} from "./prompt-template.ts";

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
    readonly output: {readonly format: "generated"} | {readonly format: "reexpress"; readonly document: ValueSource; readonly label: ValueSource};
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
    const invalid = (message: string) => new OrchardError("INVALID_ARGUMENT", message);
    if ((options.template === undefined) === (options.promptField === undefined))
        throw invalid("give exactly one of --template \"… {field} …\" and --prompt-field NAME");
    let source: MessageSource;
    if (options.template !== undefined) {
        const template = PromptTemplate.parse(options.template);
        if (typeof template === "string") throw invalid(`--template: ${template}`);
        if (template.fields.length === 0) throw invalid("--template names no {field}: every document would get the same message");
        source = {template};
    } else {
        if ((options.promptField ?? "") === "") throw invalid("--prompt-field must name a field");
        source = {promptField: options.promptField as string};
    }
    const format = options.outputFormat ?? "generated";
    if (!(GENERATE_OUTPUT_FORMATS as readonly string[]).includes(format)) throw invalid(`--output-format must be one of ${GENERATE_OUTPUT_FORMATS.join(", ")}`);
    let output: ResolvedGenerateOptions["output"] = {format: "generated"};
    if (format === "reexpress") {
        if (options.labelFrom === undefined) throw invalid("--output-format reexpress needs --label-from <input field>|json.<field> (Reexpress lines carry an integer label)");
        const document = parseValueSource(options.documentFrom ?? "completion", "--document-from");
        const label = parseValueSource(options.labelFrom, "--label-from");
        if (typeof document === "string") throw invalid(document);
        if (typeof label === "string") throw invalid(label);
        for (const [flag, value] of [["--document-from", document], ["--label-from", label]] as const)
            if (value.kind === "json" && options.jsonSchemaPath === undefined) throw invalid(`${flag} json.${value.field} needs --json-schema (there is no parsed value without one)`);
        output = {format: "reexpress", document, label};
    } else if (options.documentFrom !== undefined || options.labelFrom !== undefined) {
        throw invalid("--document-from and --label-from apply to --output-format reexpress only");
    }
    return {
        modelPath: options.modelPath,
        inputPath: options.inputPath,
        outputPath: options.outputPath,
        source,
        system: options.system ?? "",
        jsonSchemaPath: options.jsonSchemaPath,
        sampling: resolveGenerationSampling(options),
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
