import {execFile} from "node:child_process";
import {freemem} from "node:os";
import {OrchardError} from "@orchard/shared";
import type {MachineFacts, SparePolicy} from "./spare-policy.ts";

/** Runs a probe command and returns its stdout; rejects when it cannot run or exits non-zero. */
export type ProbeCommandRunner = (command: string, args: readonly string[]) => Promise<string>;

/** How the policy reads the machine: injectable, so tests give fixed facts. */
export interface MachineProbes {
    /** Time since the last keyboard or mouse input, in ms. */
    idleMs(): Promise<number>;
    onAcPower(): Promise<boolean>;
    /** 0 when there is no thermal pressure; higher is hotter. */
    thermalLevel(): Promise<number>;
    freeMemoryBytes(): Promise<number>;
}

/**
 * macOS's probes: `ioreg -c IOHIDSystem` (HIDIdleTime), `pmset -g batt`, `pmset -g therm`,
 * `vm_stat` (os.freemem() counts only free pages on macOS, and a Mac keeps almost none free: its
 * caches are reclaimable). Elsewhere, free memory comes from os.freemem() (MemAvailable on Linux)
 * and the other probes fail with a message saying they need macOS.
 */
export function systemProbes(run: ProbeCommandRunner = execProbe, platform: NodeJS.Platform = process.platform): MachineProbes {
    return {
        idleMs: async () => parseIoregIdleMs(await run("ioreg", ["-c", "IOHIDSystem", "-d", "4"])),
        onAcPower: async () => parsePmsetBattOnAc(await run("pmset", ["-g", "batt"])),
        thermalLevel: async () => parsePmsetThermLevel(await run("pmset", ["-g", "therm"])),
        freeMemoryBytes: async () => platform === "darwin" ? parseVmStatAvailableBytes(await run("vm_stat", [])) : freemem()
    };
}

/** The facts the policy's enabled checks need, read now. */
export async function readMachineFacts(policy: SparePolicy, probes: MachineProbes): Promise<MachineFacts> {
    const [idleMs, onAcPower, thermalLevel, freeMemoryBytes] = await Promise.all([
        policy.whenIdleMs === undefined ? undefined : probe("--when-idle", "the time since the last keyboard or mouse input (ioreg -c IOHIDSystem)", probes.idleMs),
        policy.requireAc ? probe("--require-ac", "the power source (pmset -g batt)", probes.onAcPower) : undefined,
        policy.maxThermalLevel === undefined ? undefined : probe("--max-thermal", "the thermal state (pmset -g therm)", probes.thermalLevel),
        policy.minFreeMemoryBytes === undefined ? undefined : probe("--min-free-memory", "the available memory", probes.freeMemoryBytes)
    ]);
    return {
        ...(idleMs === undefined ? {} : {idleMs}), ...(onAcPower === undefined ? {} : {onAcPower}),
        ...(thermalLevel === undefined ? {} : {thermalLevel}), ...(freeMemoryBytes === undefined ? {} : {freeMemoryBytes})
    };
}

async function probe<T>(flag: string, what: string, read: () => Promise<T>): Promise<T> {
    try {
        return await read();
    } catch (error) {
        throw new OrchardError("INVALID_ARGUMENT", `${flag}: cannot read ${what}: ${(error as Error).message}`, {cause: error});
    }
}

/** `"HIDIdleTime" = 123456789` (nanoseconds) in `ioreg -c IOHIDSystem`: the first one, in ms. */
export function parseIoregIdleMs(text: string): number {
    const match = /"HIDIdleTime"\s*=\s*(\d+)/.exec(text);
    if (match === null) throw new Error("no HIDIdleTime in ioreg's output");
    return Math.floor(Number(match[1]) / 1e6);
}

/** `Now drawing from 'AC Power'` / `'Battery Power'` / `'UPS Power'`, the first line of `pmset -g batt`. */
export function parsePmsetBattOnAc(text: string): boolean {
    const match = /Now drawing from '([^']+)'/.exec(text);
    if (match === null) throw new Error("no \"Now drawing from\" in pmset's output");
    return match[1] === "AC Power";
}

/**
 * `pmset -g therm`: "Thermal warning level set to N." / "Performance warning level set to N." (none
 * recorded: 0), and on Intel Macs `CPU_Speed_Limit = P`: a limit below 100 % is pressure, level 1
 * at least. The highest of these.
 */
export function parsePmsetThermLevel(text: string): number {
    let level = 0;
    for (const match of text.matchAll(/(?:Thermal|Performance) warning level set to (\d+)/gi)) level = Math.max(level, Number(match[1]));
    const speed = /CPU_Speed_Limit\s*=\s*(\d+)/.exec(text);
    if (speed !== null && Number(speed[1]) < 100) level = Math.max(level, 1);
    return level;
}

/** `vm_stat`: (free + inactive + speculative + purgeable pages) x page size: memory a model could get without swapping. */
export function parseVmStatAvailableBytes(text: string): number {
    const pageSize = Number(/page size of (\d+) bytes/.exec(text)?.[1] ?? Number.NaN);
    if (!(pageSize > 0)) throw new Error("no page size in vm_stat's output");
    const pages = (name: string) => Number(new RegExp(`^Pages ${name}:\\s+(\\d+)\\.?$`, "m").exec(text)?.[1] ?? 0);
    return (pages("free") + pages("inactive") + pages("speculative") + pages("purgeable")) * pageSize;
}

function execProbe(command: string, args: readonly string[]): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(command, [...args], {encoding: "utf8", timeout: 10_000}, (error, stdout) => {
            if (error === null) resolve(stdout);
            else reject(new Error((error as NodeJS.ErrnoException).code === "ENOENT" ? `${command} not found (this check needs macOS)` : error.message));
        });
    });
}
