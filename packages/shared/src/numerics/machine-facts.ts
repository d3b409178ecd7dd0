import {z} from "zod";

/**
 * Which machine computed a shard, and which machines a run accepts. A run's numbers can be pinned
 * (NumericsSettings) except for the machine: llama.cpp's bits differ between backends, chips and
 * builds (FACTS.md, "Determinism"). So each shard result says where it was computed (provenance),
 * and a run may require one backend or chip family. Results are written by whoever holds the Redis
 * URL: every string is bounded.
 */

/** Longest machine fact, in characters (as fleet-schemas' names). */
const MAX_FACT_CHARS = 256;
const factSchema = z.string().max(MAX_FACT_CHARS);

/** The backends a run may require (what node-llama-cpp reports; "cpu" when it uses no GPU). */
export const MACHINE_BACKENDS = ["metal", "cuda", "vulkan", "cpu"] as const;
export type MachineBackend = (typeof MACHINE_BACKENDS)[number];

/** Where a shard was computed: stored with each shard result and kept per shard by the run. */
export const machineFactsSchema = z.object({
    host: factSchema,
    /** The GPU's name when the backend is a GPU, else the CPU model ("Apple M2 Ultra", "AMD EPYC 7763 64-Core Processor"). */
    chip: factSchema,
    /** "metal", "cuda", "vulkan", "cpu", or "simulated" for the fake engine. */
    backend: factSchema,
    /** node-llama-cpp's package version ("3.22.1"); "" for the simulated engine. */
    nodeLlamaCpp: factSchema,
    /** The llama.cpp release node-llama-cpp was built from ("b6xxx"); "" for the simulated engine. */
    llamaCpp: factSchema
});
export type MachineFacts = z.infer<typeof machineFactsSchema>;

/** A run's demands on the machines that compute it (`orchard run --require-backend/--require-chip`). */
export const machineRequirementSchema = z.object({
    backend: z.enum(MACHINE_BACKENDS).optional(),
    /** Matched case-insensitively as a substring of the machine's chip ("M2", "RTX 4090"). */
    chip: z.string().min(1).max(MAX_FACT_CHARS).optional()
});
export type MachineRequirement = z.infer<typeof machineRequirementSchema>;

/** Why a machine must leave a run's shards alone (one sentence), or undefined when it may compute them. */
export function machineRefusal(requirement: MachineRequirement | undefined, machine: Pick<MachineFacts, "backend" | "chip">): string | undefined {
    if (requirement?.backend !== undefined && machine.backend !== requirement.backend)
        return `the run requires backend ${requirement.backend}; this worker computes on ${machine.backend}`;
    if (requirement?.chip !== undefined && !machine.chip.toLowerCase().includes(requirement.chip.toLowerCase()))
        return `the run requires a chip matching ${JSON.stringify(requirement.chip)}; this worker's is ${JSON.stringify(machine.chip)}`;
    return undefined;
}
