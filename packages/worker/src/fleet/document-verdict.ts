import type {FailureCode} from "@orchard/shared";

/**
 * Thrown by a task handler for a document that will never get a result (its completion ran out of
 * --max-tokens, say): the document's verdict, recorded for it, when the code is one of the handler's
 * `verdictCodes`. The shard goes on; retrying would give the same answer.
 */
export class DocumentVerdict extends Error {
    public readonly code: FailureCode;

    public constructor(code: FailureCode, message: string) {
        super(message);
        this.name = "DocumentVerdict";
        this.code = code;
    }
}
