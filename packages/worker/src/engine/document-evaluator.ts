import type {AttributeInputs} from "@orchard/shared";

/** Evaluates one tokenized prompt and returns what the attributes are computed from. */
export interface DocumentEvaluator {
    /** `tokens` starts with BOS; at least 2 tokens. One document at a time per evaluator. */
    evaluate(tokens: readonly number[]): Promise<AttributeInputs>;
    close(): Promise<void>;
}
