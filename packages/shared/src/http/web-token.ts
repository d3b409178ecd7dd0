import {readSecretFile} from "../config/secret-file.ts";
import {OrchardError} from "../errors/orchard-error.ts";
import type {Logger} from "../logging/create-logger.ts";

/** Where the token of a web server of ours (dashboard, playground) may come from, as the command's flags name them. */
export interface WebTokenSources {
    /** What the token is for, in messages: "dashboard", "playground". Default "dashboard". */
    readonly service?: string;
    /** The environment variable that may hold it, in messages. Default "ORCHARD_DASHBOARD_TOKEN". */
    readonly environmentName?: string;
    /** The token flag's name, e.g. "--token" or "--dashboard-token". */
    readonly flag: string;
    /** Its value: on the command line, where every local user reads it (`ps`). */
    readonly value: string | undefined;
    /** The file flag's name, e.g. "--token-file". */
    readonly fileFlag: string;
    /** A file whose content (surrounding white space trimmed) is the token. */
    readonly file: string | undefined;
    /** The environment variable's value (ORCHARD_DASHBOARD_TOKEN, ORCHARD_PLAYGROUND_TOKEN). */
    readonly environment: string | undefined;
}

/**
 * The token from the command line, a file or the environment (in that order), or
 * undefined. A token on the command line still works, with a warning (`secretOnCommandLine`
 * names the flag): the environment or a file keeps it out of the process list. A file that is
 * missing, unreadable or empty, or both flags at once, is an INVALID_ARGUMENT naming it.
 */
export function resolveWebToken(sources: WebTokenSources, logger: Logger): string | undefined {
    const service = sources.service ?? "dashboard";
    if (sources.value !== undefined && sources.file !== undefined)
        throw new OrchardError("INVALID_ARGUMENT", `give the ${service} token with ${sources.flag} or ${sources.fileFlag}, not both`);
    if (sources.file !== undefined) return readTokenFile(sources.file, sources.fileFlag);
    if (sources.value !== undefined) {
        logger.warn({secretOnCommandLine: sources.flag},
            `the ${service} token is on the command line, where every user of this machine can read it (ps): prefer ${sources.environmentName ?? "ORCHARD_DASHBOARD_TOKEN"} or ${sources.fileFlag}`);
        return sources.value;
    }
    return sources.environment;
}

function readTokenFile(path: string, fileFlag: string): string {
    return readSecretFile(path, fileFlag, {empty: "the token, e.g. from openssl rand -hex 16", alone: "the token"});
}
