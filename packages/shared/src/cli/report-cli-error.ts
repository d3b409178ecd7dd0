import {isOrchardError, type OrchardErrorCode} from "../errors/orchard-error.ts";
import {terminalSafe} from "../text/terminal-text.ts";

/**
 * Exit codes: 1 for a user mistake (bad input, flags, files), 2 for an environment problem, 3 for a
 * bug, 4 for a fleet run that finished with documents missing (listed; `orchard retry-failed`).
 */
const EXIT_CODES: Readonly<Record<OrchardErrorCode, number>> = {
    INVALID_ARGUMENT: 1,
    INPUT_NOT_FOUND: 1,
    INVALID_INPUT_LINE: 1,
    DUPLICATE_ID: 1,
    DOCUMENT_TOO_LONG: 1,
    MODEL_NOT_FOUND: 1,
    MODEL_INVALID: 1,
    OUTPUT_MISMATCH: 1,
    OUTPUT_NOT_WRITABLE: 1,
    RUN_NOT_FOUND: 1,
    RUN_CANCELLED: 1,
    RUN_RECORD_MISMATCH: 1,
    RUN_INCOMPLETE: 4,
    RUN_BUSY: 2,
    ENGINE_FAILED: 2,
    ENGINE_UNSUPPORTED: 2,
    REDIS_UNAVAILABLE: 2,
    RECORD_INVALID: 2,
    SERVICE_MANAGER_FAILED: 2,
    DOWNLOAD_FAILED: 2,
    DISK_FULL: 2,
    MODEL_TOO_LARGE: 2,
    INTERNAL: 3
};

/**
 * Prints an error the way a user should see it and returns the process exit code: Orchard's
 * own errors as `orchard: <message> [CODE]` without a stack; anything else is a bug, with its stack.
 * Messages may quote what a worker wrote in Redis (a failure's reason, a document id): they reach
 * the terminal without escape sequences or control characters (line breaks kept).
 */
export function reportCliError(error: unknown, write: (text: string) => void = (text) => process.stderr.write(text)): number {
    if (isOrchardError(error)) {
        write(`orchard: ${terminalSafe(error.message, {multiline: true})} [${error.code}]\n`);
        return EXIT_CODES[error.code];
    }
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    write(`orchard: unexpected error (a bug; please report it with this output):\n${terminalSafe(detail, {multiline: true})}\n`);
    return 3;
}
