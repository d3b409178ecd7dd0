import {
    buildReaskPrompt, codePointLength, DEFAULT_REASK_ID, DEFAULT_REASK_LABEL, formatOutputLine, OrchardError, prepareDocumentText, pythonStrip,
    reaskRequestSchema, resolvePromptSettings, type PreparedDocument, type ReaskResponse
} from "@orchard/shared";
import type {ExtractionEngine} from "../engine/extraction-engine.ts";
import {PlaygroundHttpError} from "./playground-http-error.ts";

/** What a re-ask needs of the engine: the same two calls `orchard extract` makes. */
export type ReaskEngine = Pick<ExtractionEngine, "tokenizePrompt" | "evaluate" | "options">;

/**
 * One document's re-ask, computed exactly as `orchard extract` computes it: the same document
 * preparation (stripped, cut to `maxDocumentChars`), prompt, tokenizer and engine call, and the
 * output line `orchard extract --drop-prompt` writes (formatOutputLine). Bad input is a 400
 * PlaygroundHttpError with a code; a prompt longer than the context says by how much.
 */
export async function reask(engine: ReaskEngine, body: unknown, options: {maxDocumentChars: number}): Promise<ReaskResponse> {
    const parsed = reaskRequestSchema.safeParse(body);
    if (!parsed.success)
        throw new PlaygroundHttpError(400, "INVALID_REQUEST", parsed.error.issues.map((issue) => issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : issue.message).join("; "));
    const request = parsed.data;
    const settings = resolvePromptSettings({promptText: request.promptText, trailingInstruction: request.trailingInstruction, dropPrompt: true, maxDocumentChars: options.maxDocumentChars});
    const documentText = prepareDocumentText(request.document, settings.maxDocumentChars);
    if (documentText === "") throw new PlaygroundHttpError(400, "EMPTY_DOCUMENT", "the document is empty: paste the text to ask about");
    const prepared: PreparedDocument = {
        index: 0, lineNumber: 1, documentText, promptText: settings.promptText,
        doc: {id: request.id ?? DEFAULT_REASK_ID, label: request.label ?? DEFAULT_REASK_LABEL, document: request.document}
    };
    const prompt = buildReaskPrompt(prepared.promptText, documentText, settings.trailingInstruction);
    const tokens = engine.tokenizePrompt(prompt);
    const contextSize = engine.options.contextSize;
    if (tokens.length > contextSize)
        throw new PlaygroundHttpError(400, "DOCUMENT_TOO_LONG",
            `the prompt is ${tokens.length} tokens (document: ${codePointLength(documentText)} characters), longer than the context size of ${contextSize}: ` +
            "shorten the document or restart the playground with a larger --context-size", {tokens: tokens.length, contextSize});
    let evaluated: Awaited<ReturnType<ReaskEngine["evaluate"]>>;
    try {
        evaluated = await engine.evaluate(tokens, prepared.promptText);
    } catch (error) {
        throw new PlaygroundHttpError(500, "ENGINE_FAILED", error instanceof OrchardError ? error.message : `evaluation failed: ${(error as Error).message}`);
    }
    const {attributes, yesLogit, noLogit} = evaluated;
    return {
        answer: yesLogit >= noLogit ? "Yes" : "No",
        yesProbability: yesProbability(yesLogit, noLogit),
        yesLogit,
        noLogit,
        attributes,
        line: formatOutputLine(prepared, attributes, settings),
        tokens: tokens.length,
        prompt,
        documentCut: documentText !== pythonStrip(request.document)
    };
}

/** softmax over {Yes, No}: 1 / (1 + e^(no - yes)), which never overflows to NaN. */
export function yesProbability(yesLogit: number, noLogit: number): number {
    return 1 / (1 + Math.exp(noLogit - yesLogit));
}
