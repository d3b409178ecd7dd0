import type {LevelWithSilent} from "pino";
import {LOG_LEVELS} from "../logging/create-logger.ts";

/** Options every orchard command accepts (declared once on the root yargs instance). */
export interface GlobalCliOptions {
    readonly logLevel: LevelWithSilent;
    readonly logFormat: "auto" | "pretty" | "json";
}

export const GLOBAL_CLI_OPTIONS = {
    "log-level": {
        type: "string",
        choices: LOG_LEVELS as string[],
        default: "info",
        describe: "Minimum level of log lines (written to stderr)",
        global: true
    },
    "log-format": {
        type: "string",
        choices: ["auto", "pretty", "json"],
        default: "auto",
        describe: "Log line format: pretty on a TTY and JSON otherwise when auto",
        global: true
    }
} as const;

/** pino-pretty on a TTY, JSON lines otherwise, unless --log-format says which. */
export function prettyLogsFor(format: GlobalCliOptions["logFormat"]): boolean | undefined {
    return format === "auto" ? undefined : format === "pretty";
}
