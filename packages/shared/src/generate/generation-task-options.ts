import {OrchardError} from "../errors/orchard-error.ts";
import {GENERATE_OUTPUT_FORMATS, parseValueSource, type GenerateOutput, type GenerateOutputFormat, type MessageSource} from "./generate-output-line.ts";
import {resolveGenerationSampling, type GenerationSamplingOptions, type ResolvedGenerationSampling} from "./generation-settings.ts";
import {PromptTemplate} from "./prompt-template.ts";

/** What a generation computes and writes, as `orchard generate` and `orchard run --task generate` take it. */
export interface GenerationTaskOptions extends GenerationSamplingOptions {
    /** The user message with `{field}` placeholders; exactly one of template and promptField. */
    readonly template?: string | undefined;
    /** The input field holding each line's user message. */
    readonly promptField?: string | undefined;
    /** Text put before every user message (Mixtral has no system role). Default "". */
    readonly system?: string | undefined;
    /** Whether a JSON schema constrains every completion (a json.<field> source needs one). */
    readonly withJsonSchema: boolean;
    /** Default "generated". */
    readonly outputFormat?: GenerateOutputFormat | undefined;
    /** reexpress: "completion" (default) or "json.<field>". */
    readonly documentFrom?: string | undefined;
    /** reexpress (required): an input field or "json.<field>" holding an integer label. */
    readonly labelFrom?: string | undefined;
}

export interface ResolvedGenerationTask {
    readonly source: MessageSource;
    readonly system: string;
    readonly sampling: ResolvedGenerationSampling;
    readonly output: GenerateOutput;
}

/** Checks the generation flags against each other (one implementation for `generate` and the fleet) before anything is read or loaded. */
export function resolveGenerationTask(options: GenerationTaskOptions): ResolvedGenerationTask {
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
    let output: GenerateOutput = {format: "generated"};
    if (format === "reexpress") {
        if (options.labelFrom === undefined) throw invalid("--output-format reexpress needs --label-from <input field>|json.<field> (Reexpress lines carry an integer label)");
        const document = parseValueSource(options.documentFrom ?? "completion", "--document-from");
        const label = parseValueSource(options.labelFrom, "--label-from");
        if (typeof document === "string") throw invalid(document);
        if (typeof label === "string") throw invalid(label);
        for (const [flag, value] of [["--document-from", document], ["--label-from", label]] as const)
            if (value.kind === "json" && !options.withJsonSchema) throw invalid(`${flag} json.${value.field} needs --json-schema (there is no parsed value without one)`);
        output = {format: "reexpress", document, label};
    } else if (options.documentFrom !== undefined || options.labelFrom !== undefined) {
        throw invalid("--document-from and --label-from apply to --output-format reexpress only");
    }
    return {source, system: options.system ?? "", sampling: resolveGenerationSampling(options), output};
}
