import {pino, type Logger, type LevelWithSilent} from "pino";
import pretty from "pino-pretty";
import {terminalSafe, terminalSafeStrings} from "../text/terminal-text.ts";
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
 * Pretty lines go to a terminal, and pino-pretty prints strings as they are: a worker's name or an
 * error message read back from Redis must not carry escape sequences there. (JSON lines escape
 * control characters by themselves.)
 */
const TERMINAL_SAFE = {
    formatters: {
        log: (object: Record<string, unknown>) => terminalSafeStrings(Object.fromEntries(Object.entries(object).map(([key, value]) => [key, safeError(value)])), {multiline: true}),
        bindings: (bindings: Record<string, unknown>) => terminalSafeStrings(bindings, {multiline: true})
    },
    hooks: {
        logMethod(this: Logger, args: Parameters<Logger["info"]>, method: (...args: unknown[]) => void) {
            method.apply(this, args.map((arg: unknown) => (typeof arg === "string" ? terminalSafe(arg, {multiline: true}) : arg)));
        }
    }
};

/**
 * An error with its message, stack and own fields cleaned (same class, so pino names its type
 * right): terminalSafeStrings leaves class instances alone. Anything else as it is.
 */
function safeError(value: unknown): unknown {
    if (!(value instanceof Error)) return value;
    const copy = Object.create(Object.getPrototypeOf(value) as object) as Error;
    return Object.assign(copy, terminalSafeStrings({...value}, {multiline: true}), {
        message: terminalSafe(value.message, {multiline: true}), stack: terminalSafe(value.stack ?? "", {multiline: true})
    });
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
        return pino({...base, ...TERMINAL_SAFE}, pretty({destination, colorize: true, sync: true, ignore: "pid,hostname,name", translateTime: "HH:MM:ss"}));
    return pino(base, destination);
}
