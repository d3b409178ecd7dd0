import {pino, type Logger, type LevelWithSilent} from "pino";
import pretty from "pino-pretty";
import {StderrLogStream} from "./stderr-log-stream.ts";

export type {Logger} from "pino";
export const LOG_LEVELS: readonly LevelWithSilent[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export interface LoggerOptions {
    /** Minimum level written. Default "info". */
    readonly level?: LevelWithSilent;
    /** Human-readable lines instead of JSON. Default: when stderr is a TTY. */
    readonly pretty?: boolean;
    /** Name of the entry point (orchard-extract, orchard-worker...). */
    readonly name?: string;
    /** Where lines go instead of stderr (a live terminal view that keeps them above its block). */
    readonly destination?: NodeJS.WritableStream;
}

/**
 * One logger per entry point, writing to stderr so stdout stays free for results and progress.
 * Pretty printing runs in-process (no transport thread) so lines are never lost on exit.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
    const level = options.level ?? "info";
    const usePretty = options.pretty ?? process.stderr.isTTY === true;
    const base = {level, name: options.name};
    // a stream that survives a closed terminal, rather than pino's fd destination (see StderrLogStream)
    const destination = options.destination ?? new StderrLogStream();
    if (usePretty)
        return pino(base, pretty({destination, colorize: true, sync: true, ignore: "pid,hostname,name", translateTime: "HH:MM:ss"}));
    return pino(base, destination);
}
