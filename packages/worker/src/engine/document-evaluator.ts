import type {AttributeInputs} from "@orchard/shared";

/** Evaluates one tokenized prompt and returns what the attributes are computed from. */
export interface DocumentEvaluator {
    /**
     * `tokens` starts with BOS; at least 2 tokens. One document at a time per evaluator.
     * `prefixLength` (0 < prefixLength < tokens.length), when given, says that `tokens[0..prefixLength)`
     * is the document-independent prompt prefix the caller checked (the token-boundary guard): an
     * evaluator may keep it evaluated between documents (prefix reuse) or ignore it.
     */
    evaluate(tokens: readonly number[], prefixLength?: number): Promise<AttributeInputs>;
    /**
     * Log-probability of each continuation after `prefix` (BOS first), teacher-forced over the
     * whole vocabulary (see scoreContinuations). Leaves no trace on a later `evaluate`, which
     * clears the sequence first.
     */
    scoreContinuations(prefix: readonly number[], continuations: readonly (readonly number[])[]): Promise<number[]>;
    close(): Promise<void>;
}
