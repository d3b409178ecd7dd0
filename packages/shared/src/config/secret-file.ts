import {readFileSync} from "node:fs";
import {OrchardError} from "../errors/orchard-error.ts";

/**
 * The one-line secret held in `path` (a token file, a Redis URL file), surrounding white space
 * trimmed. A file that is missing, unreadable, empty or of several lines is an INVALID_ARGUMENT
 * naming the flag and the file, never the content (it is a secret). `what` says what the file
 * should hold, for the messages ("the token, e.g. from openssl rand -hex 16").
 */
export function readSecretFile(path: string, flag: string, what: {empty: string; alone: string}): string {
    let text: string;
    try {
        text = readFileSync(path, "utf8");
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a folder" : (error as Error).message;
        throw new OrchardError("INVALID_ARGUMENT", `${flag} ${path}: ${why}`, {cause: error});
    }
    const secret = text.trim();
    if (secret === "") throw new OrchardError("INVALID_ARGUMENT", `${flag} ${path}: the file is empty (it should hold ${what.empty})`);
    if (/[\r\n]/.test(secret)) throw new OrchardError("INVALID_ARGUMENT", `${flag} ${path}: the file holds several lines; it should hold ${what.alone} alone`);
    return secret;
}
