import {buildReaskPrompt, codePointLength, OrchardError, takeCodePoints, type PreparedDocument} from "@orchard/shared";

/** A prompt ready for the engine. */
export interface TokenizedPrompt {
    readonly tokens: number[];
    /** The document text actually in the prompt (shorter than prepared.documentText when truncated). */
    readonly documentText: string;
    readonly truncated: boolean;
}

/**
 * Builds and tokenizes a document's re-ask prompt, checking it fits the context. With `truncate`,
 * the document (never the instruction) is cut to the longest prefix that fits.
 */
export function tokenizeDocumentPrompt(
    prepared: PreparedDocument,
    trailingInstruction: string,
    tokenize: (text: string) => number[],
    options: {contextSize: number; truncate: boolean; file: string}
): TokenizedPrompt {
    return fitDocumentPrompt(prepared, (documentText) => tokenize(buildReaskPrompt(prepared.promptText, documentText, trailingInstruction)), options);
}

/**
 * The tokens `promptFor` gives for the document, checked to fit the context; with `truncate`, for
 * the longest prefix (in code points) of the document that fits. Shared by the re-ask and a
 * classify task's label prompt, so both cut a document the same way.
 */
export function fitDocumentPrompt(
    prepared: PreparedDocument,
    promptFor: (documentText: string) => number[],
    options: {contextSize: number; truncate: boolean; file: string}
): TokenizedPrompt {
    const tokens = promptFor(prepared.documentText);
    if (tokens.length <= options.contextSize)
        return {tokens, documentText: prepared.documentText, truncated: false};
    if (!options.truncate)
        throw new OrchardError("DOCUMENT_TOO_LONG",
            `${options.file}:${prepared.lineNumber}: the prompt for document "${prepared.doc.id}" is ${tokens.length} tokens, ` +
            `longer than the context size of ${options.contextSize}; raise --context-size, lower --max-document-chars, or pass --truncate to cut such documents`,
            {details: {file: options.file, line: prepared.lineNumber, tokens: tokens.length, contextSize: options.contextSize}});

    // binary search for the longest prefix (in code points) whose prompt fits
    let low = 0;
    let high = codePointLength(prepared.documentText);
    let best: {tokens: number[]; documentText: string} | undefined;
    while (low <= high) {
        const middle = Math.floor((low + high) / 2);
        const text = takeCodePoints(prepared.documentText, middle);
        const candidate = promptFor(text);
        if (candidate.length <= options.contextSize) {
            best = {tokens: candidate, documentText: text};
            low = middle + 1;
        } else
            high = middle - 1;
    }
    if (best == null)
        throw new OrchardError("DOCUMENT_TOO_LONG",
            `${options.file}:${prepared.lineNumber}: even without its document, the prompt does not fit the context size of ${options.contextSize}`);
    return {...best, truncated: true};
}
