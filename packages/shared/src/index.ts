export {OrchardError, InputLineError, isOrchardError, type OrchardErrorCode, type OrchardErrorOptions} from "./errors/orchard-error.ts";
export {reportCliError} from "./cli/report-cli-error.ts";
export {
    ATTRIBUTE_COUNT, ATTRIBUTE_NAMES, ATTRIBUTE_CLIP, HIDDEN_GROUP_COUNT, LOGIT_SCALE, YES_TOKEN_ID, NO_TOKEN_ID
} from "./attributes/attribute-definitions.ts";
export {computeAttributes, groupMeans, toAttributeValue, type AttributeInputs} from "./attributes/compute-attributes.ts";
export {inputDocumentSchema, type InputDocument} from "./schemas/input-document-schema.ts";
export {pythonStrip, takeCodePoints, codePointLength} from "./text/python-strip.ts";
export {
    buildReaskPrompt, effectivePromptText, prepareDocumentText, DEFAULT_MAX_DOCUMENT_CHARS, DEFAULT_PROMPT_TEXT,
    DEFAULT_TRAILING_INSTRUCTION, type PromptSettings
} from "./prompt/reask-prompt.ts";
export {readJsonlLines, type JsonlLine} from "./jsonl/jsonl-line-reader.ts";
export {readDataset, loadDataset, InputValidationError, MAX_REPORTED_INPUT_ERRORS} from "./dataset/dataset-reader.ts";
export type {PreparedDocument} from "./dataset/prepared-document.ts";
export {formatOutputLine} from "./dataset/output-line.ts";
export {createLogger, LOG_LEVELS, type Logger, type LoggerOptions} from "./logging/create-logger.ts";
export * from "./gguf/gguf-types.ts";
export {GLOBAL_CLI_OPTIONS, prettyLogsFor, type GlobalCliOptions} from "./cli/global-options.ts";
export {
    writeGguf, planGguf, ggufString, ggufBool, ggufUint32, ggufInt32, ggufFloat32, ggufArray,
    type GgufTensorSource, type GgufWriteOptions, type GgufPlan
} from "./gguf/gguf-writer.ts";
export {readGgufHeader, readGgufTensor, GgufReader, dequantizeGgml, type GgufHeader} from "./gguf/gguf-reader.ts";
export {
    float32ToFloat16Bits, float16BitsToFloat32, encodeF32, encodeF16, encodeQ8_0, encodeGgmlValues, encodedByteLength
} from "./gguf/ggml-quantize.ts";
