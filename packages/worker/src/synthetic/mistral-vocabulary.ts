import {OrchardError} from "@orchard/shared";
import type mistralTokenizer from "mistral-tokenizer-js";

/**
 * The real Mixtral v0.1 (Mistral) vocabulary, in the form GGUF's `tokenizer.ggml.*` keys need.
 *
 * mistral-tokenizer-js carries the 32,000 pieces by id and the 58,980 BPE merges in order, but no
 * SentencePiece scores. llama.cpp's SPM tokenizer repeatedly merges the adjacent pair whose joined
 * piece has the highest score (leftmost on ties), while mistral-tokenizer-js applies the
 * lowest-ranked merge (leftmost on ties). Scoring each piece by minus the rank of the first merge
 * that produces it makes the two agree: the merge list was exported from the SentencePiece model in
 * score order, so all merges producing one piece sit next to each other and one piece's rank order
 * is its score order. Whitespace runs ("▁▁", ...) come last in the merge list, as their original
 * scores are the lowest, and this keeps that.
 */

type MistralTokenizer = typeof mistralTokenizer;

/** llama.cpp's token types (llama_token_type), as stored in `tokenizer.ggml.token_type`. */
export const LlamaTokenType = {
    NORMAL: 1,
    UNKNOWN: 2,
    CONTROL: 3,
    USER_DEFINED: 4,
    UNUSED: 5,
    BYTE: 6
} as const;

export const MISTRAL_VOCABULARY_SIZE = 32000;
export const MISTRAL_UNK_TOKEN_ID = 0;
export const MISTRAL_BOS_TOKEN_ID = 1;
export const MISTRAL_EOS_TOKEN_ID = 2;

export interface MistralVocabulary {
    /** Pieces by id. */
    readonly tokens: readonly string[];
    /** SentencePiece-style scores by id (higher merges first). */
    readonly scores: readonly number[];
    /** llama token types by id. */
    readonly tokenTypes: readonly number[];
    /** Number of merges the scores were derived from. */
    readonly mergeCount: number;
}

const BYTE_PIECE = /^<0x[0-9A-F]{2}>$/;

let tokenizerPromise: Promise<MistralTokenizer> | undefined;
let vocabulary: MistralVocabulary | undefined;

/**
 * mistral-tokenizer-js itself, loaded on first use: it decodes ~650 kB of embedded data at import,
 * which commands that never synthesize a model should not pay for.
 */
export function loadMistralTokenizer(): Promise<MistralTokenizer> {
    tokenizerPromise ??= import("mistral-tokenizer-js").then((module) => module.default);
    return tokenizerPromise;
}

/** The vocabulary with derived scores and types; computed once per process. */
export async function loadMistralVocabulary(): Promise<MistralVocabulary> {
    vocabulary ??= deriveMistralVocabulary(await loadMistralTokenizer());
    return vocabulary;
}

/** Pure derivation of scores and token types from the tokenizer's pieces and merges. */
export function deriveMistralVocabulary(tokenizer: Pick<MistralTokenizer, "vocabById" | "merges">): MistralVocabulary {
    const tokens = tokenizer.vocabById;
    if (tokens.length !== MISTRAL_VOCABULARY_SIZE || tokens[MISTRAL_UNK_TOKEN_ID] !== "<unk>"
        || tokens[MISTRAL_BOS_TOKEN_ID] !== "<s>" || tokens[MISTRAL_EOS_TOKEN_ID] !== "</s>")
        throw new OrchardError("INTERNAL", `mistral-tokenizer-js does not hold the expected Mistral v0.1 vocabulary (${tokens.length} pieces)`);

    const idByPiece = new Map<string, number>();
    tokens.forEach((piece, id) => idByPiece.set(piece, id));

    // rank of the first merge producing each piece; a Map iterates in insertion (= rank) order
    const firstRank = new Map<number, number>();
    let mergeCount = 0;
    for (const key of tokenizer.merges.keys()) {
        const rank = mergeCount++;
        const separator = key.indexOf(" ");
        const id = idByPiece.get(key.slice(0, separator) + key.slice(separator + 1));
        if (id !== undefined && !firstRank.has(id))
            firstRank.set(id, rank);
    }

    const scores: number[] = [];
    const tokenTypes: number[] = [];
    for (const [id, piece] of tokens.entries()) {
        const rank = firstRank.get(id);
        if (id === MISTRAL_UNK_TOKEN_ID) {
            tokenTypes.push(LlamaTokenType.UNKNOWN);
            scores.push(0);
        } else if (id === MISTRAL_BOS_TOKEN_ID || id === MISTRAL_EOS_TOKEN_ID) {
            tokenTypes.push(LlamaTokenType.CONTROL);
            scores.push(0);
        } else if (BYTE_PIECE.test(piece)) {
            // byte fallback pieces are never merge results; 0 as in converted SentencePiece models
            tokenTypes.push(LlamaTokenType.BYTE);
            scores.push(0);
        } else {
            tokenTypes.push(LlamaTokenType.NORMAL);
            // Pieces no merge produces are single characters, which the SPM tokenizer starts from
            // and never forms by merging, so their score never decides anything; keeping it below
            // every merge's mirrors SentencePiece, where they rank after all merged pieces.
            scores.push(rank !== undefined ? (rank === 0 ? 0 : -rank) : -(mergeCount + id));
        }
    }
    return {tokens, scores, tokenTypes, mergeCount};
}
