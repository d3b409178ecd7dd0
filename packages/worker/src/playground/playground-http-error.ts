/** Codes of the playground API's error answers (`{error: {code, message, details?}}`). */
export type PlaygroundErrorCode =
    | "INVALID_JSON" | "INVALID_REQUEST" | "EMPTY_DOCUMENT" | "DOCUMENT_TOO_LONG" | "BODY_TOO_LARGE" | "NOT_FOUND" | "METHOD_NOT_ALLOWED" | "ENGINE_FAILED"
    | "CONTEXT_FULL" | "INVALID_SCHEMA";

/** A request the playground refuses or could not serve: the HTTP status and a stable code, carried as data. */
export class PlaygroundHttpError extends Error {
    public readonly status: number;
    public readonly code: PlaygroundErrorCode;
    public readonly details: Record<string, unknown> | undefined;

    public constructor(status: number, code: PlaygroundErrorCode, message: string, details?: Record<string, unknown>) {
        super(message);
        this.name = "PlaygroundHttpError";
        this.status = status;
        this.code = code;
        this.details = details;
    }
}
