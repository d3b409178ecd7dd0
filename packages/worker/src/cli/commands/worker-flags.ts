import {FLEET_CONNECTION_FLAGS} from "@orchard/shared";
import {ENGINE_FLAGS} from "./extract-command.ts";

/** When a spare machine works: `orchard worker` pauses (and resumes by itself) when these stop allowing it. */
export const SPARE_POLICY_FLAGS = {
    "schedule": {type: "string", describe: "Work only in these local-time windows: \"22:00-07:00\", \"mon-fri 19:00-08:00, sat+sun 00:00-24:00\""},
    "when-idle": {type: "string", describe: "Work only when nobody has touched the keyboard or mouse for this long (macOS): 10m, 1h"},
    "require-ac": {type: "boolean", describe: "Work only on mains power, not on battery (macOS laptops)"},
    "max-thermal": {type: "number", describe: "Pause above this thermal warning level of pmset -g therm (macOS); 0: at any thermal pressure"},
    "min-free-memory": {type: "string", describe: "Pause when less memory than this is available: 8GB, 16GiB"},
    "unload-when-paused": {type: "boolean", describe: "Free the model's memory while paused (reloaded on resume)"}
} as const;

/**
 * The flags of `orchard worker` that say how it works (not how it finds Redis): the service
 * commands take the same ones and pass them on to the worker they install.
 */
export const WORKER_FLAGS = {
    "model": {alias: "model-path", type: "string", describe: "Mixtral GGUF file (its fingerprint picks the runs this worker serves); or --model-cache"},
    "model-cache": {type: "string", describe: "Instead of --model: folder of models got from the fleet; the worker takes the model of the oldest open run, from this folder or downloaded from the run's coordinator (orchard run --serve-model), verified, and kept for later runs"},
    "redis-prefix": FLEET_CONNECTION_FLAGS["redis-prefix"],
    "name": {type: "string", describe: "Name in logs and in BullMQ (default: <host>-<pid>)"},
    "concurrency": {type: "number", describe: "Shards held at once; their documents share --contexts, oldest shard first, so the next shard is at hand when one ends (default 2)"},
    ...ENGINE_FLAGS,
    "lock-duration-ms": {type: "number", describe: "BullMQ lock of a shard, renewed every half (default 60000)"},
    "stalled-interval-ms": {type: "number", describe: "How often to look for shards of dead workers (default 30000)"},
    "shutdown-timeout-ms": {type: "number", describe: "On stop or pause, finish the current shard within this long, else give it back (default 15000)"},
    "shutdown-grace-ms": {type: "number", describe: "Past --shutdown-timeout-ms, giving the shard back gets this long; then the worker drops its Redis connections and stops anyway, Redis unreachable (default 30000)"},
    ...SPARE_POLICY_FLAGS
} as const;

/** The flags but --model and --model-cache (the worker command needs one of them; the service commands too, as absolute paths). */
export function withoutModel<T extends {"model": unknown; "model-cache": unknown}>(flags: T): Omit<T, "model" | "model-cache"> {
    const {"model": _model, "model-cache": _modelCache, ...rest} = flags;
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
