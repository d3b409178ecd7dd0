import {FLEET_CONNECTION_FLAGS} from "@orchard/shared";
import {ENGINE_FLAGS} from "./extract-command.ts";

/**
 * The flags of `orchard worker` that say how it works (not how it finds Redis): the service
 * commands take the same ones and pass them on to the worker they install.
 */
export const WORKER_FLAGS = {
    "model": {alias: "model-path", type: "string", describe: "Mixtral GGUF file (its fingerprint picks the runs this worker serves)"},
    "redis-prefix": FLEET_CONNECTION_FLAGS["redis-prefix"],
    "name": {type: "string", describe: "Name in logs and in BullMQ (default: <host>-<pid>)"},
    "concurrency": {type: "number", describe: "Shards held at once; their documents share --contexts, oldest shard first, so the next shard is at hand when one ends (default 2)"},
    ...ENGINE_FLAGS,
    "lock-duration-ms": {type: "number", describe: "BullMQ lock of a shard, renewed every half (default 60000)"},
    "stalled-interval-ms": {type: "number", describe: "How often to look for shards of dead workers (default 30000)"},
    "shutdown-timeout-ms": {type: "number", describe: "On stop, finish the current shard within this long, else give it back (default 15000)"}
} as const;

/** The flags but --model (the worker command demands it; the service commands too, differently). */
export function withoutModel<T extends {model: unknown}>(flags: T): Omit<T, "model"> {
    const {model: _model, ...rest} = flags;
    return rest;
}


type FlagSpec = {readonly type: string; readonly default?: unknown};

/**
 * WORKER_FLAGS without their defaults: a flag the user did not give stays undefined, so a service
 * passes on only what was given and its worker takes the defaults of the Orchard it runs.
 */
export function withoutDefaults<T extends Record<string, FlagSpec>>(flags: T): T {
    return Object.fromEntries(Object.entries(flags).map(([name, spec]) => {
        const {default: _default, ...rest} = spec;
        return [name, rest];
    })) as T;
}

/**
 * The `orchard worker` words for the WORKER_FLAGS set in `args` (yargs' camelCase keys), in the
 * table's order: `--flag value`, booleans as `--flag` / `--no-flag`, arrays as the flag repeated.
 */
export function workerFlagWords(args: Readonly<Record<string, unknown>>, flags: Readonly<Record<string, FlagSpec>> = WORKER_FLAGS): string[] {
    const words: string[] = [];
    for (const name of Object.keys(flags)) {
        const value = args[name.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase())];
        if (value === undefined) continue;
        if (typeof value === "boolean") words.push(value ? `--${name}` : `--no-${name}`);
        else for (const item of Array.isArray(value) ? value : [value]) words.push(`--${name}`, String(item));
    }
    return words;
}

/**
 * The flags made local to the command that declares them (yargs makes options global by default):
 * `orchard worker`'s --model demand and defaults must not reach `orchard worker install-service`.
 */
export function localFlags<T extends Record<string, object>>(flags: T): T {
    return Object.fromEntries(Object.entries(flags).map(([name, spec]) => [name, {...spec, global: false}])) as T;
}
