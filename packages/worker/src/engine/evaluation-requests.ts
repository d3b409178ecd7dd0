import {NO_TOKEN_ID, YES_TOKEN_ID} from "@orchard/shared";
import type {ControlledEvaluateInputItem, Token} from "node-llama-cpp";

type GenerateNext = NonNullable<Extract<ControlledEvaluateInputItem, unknown[]>[1]["generateNext"]>;

/**
 * Per-position request for the two largest logits. Temperature 1 with top-k 2 makes llama.cpp's
 * sampler keep only the top 2 candidates (an O(vocab) partial selection) instead of the full
 * 32,000-entry sort that `includeTop` triggers under greedy sampling; temperature 1 leaves the
 * logit values unscaled and the seed only affects which of the two is "selected", never read.
 */
export const TOP_TWO_REQUEST: GenerateNext = {
    logits: {filter: {tokens: [], includeTop: 2}},
    options: {temperature: 1, topK: 2, topP: 1, minP: 0, seed: 1}
};

/**
 * Last-position request: top 2 plus the Yes/No logits. Greedy (no options) so that no sampler
 * drops Yes/No from the candidates; the one full sort here is paid once per document.
 */
export const LAST_POSITION_REQUEST: GenerateNext = {
    logits: {filter: {tokens: [YES_TOKEN_ID as Token, NO_TOKEN_ID as Token], includeTop: 2}}
};
