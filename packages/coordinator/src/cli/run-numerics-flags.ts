import {DEFAULT_NUMERICS, MACHINE_BACKENDS, PREFIX_REUSE_MODES, type MachineBackend, type MachineRequirement, type NumericsOptions} from "@orchard/shared";

/**
 * `orchard run`'s flags that fix how the run's numbers are computed (recorded in the run, applied by
 * every worker) and which machines may compute them. They replace the session's local-worker
 * meaning of --batch-size and --engine-route: a run's local workers take the run's.
 */
export const RUN_NUMERICS_FLAGS = {
    "batch-size": {type: "number", describe: `Pinned for the run: tokens per llama.cpp decode batch; every worker computes the run's shards with it, whatever its own flags (default ${DEFAULT_NUMERICS.batchSize})`},
    "engine-route": {
        type: "string", choices: ["auto", "one-pass", "three-pass"],
        describe: "Pinned for the run: one-pass or three-pass (auto = one-pass; a worker that cannot do the run's route leaves its shards alone) (default one-pass)"
    },
    "flash-attention": {type: "boolean", describe: "Pinned for the run: llama.cpp flash attention (default on; --no-flash-attention)"},
    "prefix-reuse": {
        type: "string", choices: PREFIX_REUSE_MODES,
        describe: "Pinned for the run: auto (each context evaluates a prompt's shared prefix once, then each document's suffix) or off (every prompt in full) (default auto)"
    },
    "require-backend": {type: "string", choices: MACHINE_BACKENDS, describe: "Only workers on this backend compute the run (metal, cuda, vulkan, cpu); the others leave its shards alone"},
    "require-chip": {type: "string", describe: "Only workers whose chip (GPU name, or CPU model on cpu) contains this text, ignoring case, compute the run (\"M2 Ultra\")"}
} as const;

export interface RunNumericsFlagValues {
    readonly batchSize?: number;
    readonly engineRoute?: string;
    readonly flashAttention?: boolean;
    readonly prefixReuse?: string;
    readonly requireBackend?: string;
    readonly requireChip?: string;
}

export function numericsOptionsFromArgs(args: RunNumericsFlagValues): NumericsOptions {
    return {batchSize: args.batchSize, engineRoute: args.engineRoute, flashAttention: args.flashAttention, prefixReuse: args.prefixReuse};
}

export function requirementFromArgs(args: RunNumericsFlagValues): MachineRequirement {
    return {backend: args.requireBackend as MachineBackend | undefined, chip: args.requireChip};
}
