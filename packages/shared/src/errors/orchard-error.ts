/**
 * Stable error codes. The CLI maps each to a message prefix and an exit code; BullMQ jobs turn
 * non-retryable ones into UnrecoverableError. Never rename a code: scripts match on them.
 */
export type OrchardErrorCode =
    | "INVALID_ARGUMENT"
    | "INPUT_NOT_FOUND"
    | "INVALID_INPUT_LINE"
    | "DUPLICATE_ID"
    | "DOCUMENT_TOO_LONG"
    | "MODEL_NOT_FOUND"
    | "MODEL_INVALID"
    | "OUTPUT_MISMATCH"
    | "OUTPUT_NOT_WRITABLE"
    | "ENGINE_FAILED"
    | "ENGINE_UNSUPPORTED"
    | "REDIS_UNAVAILABLE"
    | "RUN_NOT_FOUND"
    | "RUN_INCOMPLETE"
    | "RUN_CANCELLED"
    | "RUN_BUSY"
    | "RUN_RECORD_MISMATCH"
    /** A record read back from Redis or a state file fails its schema (written by another version, or by a hostile machine). */
    | "RECORD_INVALID"
    /** launchctl or systemctl refused to load, unload or describe a worker service. */
    | "SERVICE_MANAGER_FAILED"
    /** A model download from the fleet failed (server gone, refused, cut short too often) or its file fails verification. */
    | "DOWNLOAD_FAILED"
    /** The model cache's disk has too little free space for a model. */
    | "DISK_FULL"
    /** A model is larger than this machine's memory. */
    | "MODEL_TOO_LARGE"
    | "INTERNAL";

export interface OrchardErrorOptions {
    /** Whether retrying the same operation may succeed. Default false. */
    readonly retryable?: boolean;
    readonly cause?: unknown;
    /** Machine-readable details (file, line, field...) for JSON output and tests. */
    readonly details?: Readonly<Record<string, unknown>>;
}

/** Base class of every error Orchard raises on purpose. A user mistake is one of these, never a bare Error. */
export class OrchardError extends Error {
    public readonly code: OrchardErrorCode;
    public readonly retryable: boolean;
    public readonly details: Readonly<Record<string, unknown>>;

    public constructor(code: OrchardErrorCode, message: string, options: OrchardErrorOptions = {}) {
        super(message, options.cause === undefined ? undefined : {cause: options.cause});
        this.name = "OrchardError";
        this.code = code;
        this.retryable = options.retryable ?? false;
        this.details = options.details ?? {};
    }
}

export function isOrchardError(error: unknown): error is OrchardError {
    return error instanceof OrchardError;
}

/** A problem at one line of one input file: message reads `file:line: reason`. */
export class InputLineError extends OrchardError {
    public readonly file: string;
    public readonly line: number;
    public readonly reason: string;

    public constructor(code: OrchardErrorCode, file: string, line: number, reason: string) {
        super(code, `${file}:${line}: ${reason}`, {details: {file, line, reason}});
        this.name = "InputLineError";
        this.file = file;
        this.line = line;
        this.reason = reason;
    }
}
