import {readFile} from "node:fs/promises";
import {cpus, hostname} from "node:os";
import type {MachineFacts} from "@orchard/shared";
import type {Llama} from "node-llama-cpp";

/** Longest fact kept (machineFactsSchema's bound): a GPU name or CPU model is far shorter. */
const MAX_FACT_CHARS = 256;

/** node-llama-cpp's version, from its package.json (its exports hide the file from `import`). */
async function nodeLlamaCppVersion(): Promise<string> {
    try {
        const packageJson = new URL("../package.json", import.meta.resolve("node-llama-cpp"));
        const version = (JSON.parse(await readFile(packageJson, "utf8")) as {version?: unknown}).version;
        return typeof version === "string" ? version : "unknown";
    } catch {
        return "unknown";
    }
}

/** The CPU model of this machine ("Apple M2 Ultra"), or "unknown". */
export function cpuModel(): string {
    return cut(cpus()[0]?.model.trim() || "unknown");
}

/**
 * Where this engine computes: host, chip (the first GPU's name on a GPU backend, the CPU model on
 * CPU), backend, node-llama-cpp version and llama.cpp release. Asked once, when the engine loads.
 */
export async function probeMachineFacts(llama: Llama): Promise<MachineFacts> {
    const backend = llama.gpu === false ? "cpu" : llama.gpu;
    const gpuNames = backend === "cpu" ? [] : await llama.getGpuDeviceNames().catch(() => [] as string[]);
    return {
        host: cut(hostname()),
        chip: cut(gpuNames[0]?.trim() || cpuModel()),
        backend,
        nodeLlamaCpp: cut(await nodeLlamaCppVersion()),
        llamaCpp: cut(llama.llamaCppRelease.release)
    };
}

/** The facts of the simulated engine: this machine, no llama.cpp. */
export function simulatedMachineFacts(): MachineFacts {
    return {host: cut(hostname()), chip: cpuModel(), backend: "simulated", nodeLlamaCpp: "", llamaCpp: ""};
}

function cut(text: string): string {
    return text.slice(0, MAX_FACT_CHARS);
}
