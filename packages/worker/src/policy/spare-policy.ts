import {OrchardError} from "@orchard/shared";
import {inSchedule, parseSchedule, type ScheduleWindow} from "./schedule.ts";

/** When a spare machine may work (`orchard worker`'s policy flags). Absent checks always allow. */
export interface SparePolicy {
    /** `--schedule` as given (it names the reason: "outside 22:00-07:00"), and its windows. */
    readonly schedule: {readonly text: string; readonly windows: readonly ScheduleWindow[]} | undefined;
    /** `--when-idle`: no keyboard or mouse input for at least this long, in ms. */
    readonly whenIdleMs: number | undefined;
    /** `--require-ac`: only on mains power. */
    readonly requireAc: boolean;
    /** `--max-thermal`: pause above this thermal warning level (0: at any thermal warning). */
    readonly maxThermalLevel: number | undefined;
    /** `--min-free-memory`: pause when less memory than this is available, in bytes. */
    readonly minFreeMemoryBytes: number | undefined;
}

/** The policy flags as the CLI gives them (strings: "22:00-07:00", "10m", "8GB"). */
export interface SparePolicyFlags {
    readonly schedule?: string | undefined;
    readonly whenIdle?: string | undefined;
    readonly requireAc?: boolean | undefined;
    readonly maxThermal?: number | undefined;
    readonly minFreeMemory?: string | undefined;
}

/** What the probes said; only the facts an enabled check needs are read. */
export interface MachineFacts {
    readonly idleMs?: number;
    readonly onAcPower?: boolean;
    readonly thermalLevel?: number;
    readonly freeMemoryBytes?: number;
}

/** Work is allowed, or not, with the reason shown in heartbeats, `orchard status` and /metrics. */
export type PolicyDecision = {readonly allowed: true} | {readonly allowed: false; readonly reason: string};

/** Parses the flags once; INVALID_ARGUMENT naming the flag for a value that is not understood. */
export function resolveSparePolicy(flags: SparePolicyFlags): SparePolicy {
    const maxThermal = flags.maxThermal;
    if (maxThermal !== undefined && !(Number.isInteger(maxThermal) && maxThermal >= 0))
        throw new OrchardError("INVALID_ARGUMENT", `--max-thermal ${maxThermal}: expected a thermal warning level, 0 or more (0: pause at any thermal warning)`);
    return {
        schedule: flags.schedule === undefined ? undefined : {text: flags.schedule.trim(), windows: parseSchedule(flags.schedule)},
        whenIdleMs: flags.whenIdle === undefined ? undefined : parseDurationMs(flags.whenIdle, "--when-idle"),
        requireAc: flags.requireAc ?? false,
        maxThermalLevel: maxThermal,
        minFreeMemoryBytes: flags.minFreeMemory === undefined ? undefined : parseByteSize(flags.minFreeMemory, "--min-free-memory")
    };
}

/** Whether any check is on (without one, a worker needs no controller). */
export function hasSparePolicy(policy: SparePolicy): boolean {
    return policy.schedule !== undefined || policy.whenIdleMs !== undefined || policy.requireAc || policy.maxThermalLevel !== undefined || policy.minFreeMemoryBytes !== undefined;
}

/**
 * The decision for `now` (local time) and the facts. The first failing check names the reason, in
 * the order a user would look for it: the schedule, someone at the machine, power, heat, memory.
 */
export function evaluateSparePolicy(policy: SparePolicy, facts: MachineFacts, now: Date): PolicyDecision {
    if (policy.schedule !== undefined && !inSchedule(policy.schedule.windows, now))
        return {allowed: false, reason: `outside ${policy.schedule.text}`};
    if (policy.whenIdleMs !== undefined && (facts.idleMs ?? 0) < policy.whenIdleMs)
        return {allowed: false, reason: "user active"};
    if (policy.requireAc && facts.onAcPower === false)
        return {allowed: false, reason: "on battery"};
    if (policy.maxThermalLevel !== undefined && (facts.thermalLevel ?? 0) > policy.maxThermalLevel)
        return {allowed: false, reason: `thermal pressure (level ${facts.thermalLevel})`};
    if (policy.minFreeMemoryBytes !== undefined && facts.freeMemoryBytes !== undefined && facts.freeMemoryBytes < policy.minFreeMemoryBytes)
        return {allowed: false, reason: `low memory (under ${formatGb(policy.minFreeMemoryBytes)} free)`};
    return {allowed: true};
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {s: 1000, m: 60_000, h: 3_600_000};

/** "90s", "10m", "1h", "1.5h": a duration in ms. */
export function parseDurationMs(text: string, flag: string): number {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([smh])\s*$/i.exec(text);
    if (match === null) throw new OrchardError("INVALID_ARGUMENT", `${flag} ${text}: expected a duration such as 90s, 10m or 1h`);
    return Math.round(Number(match[1]) * (DURATION_UNITS_MS[(match[2] ?? "").toLowerCase()] ?? 0));
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
    b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4
};

/** "8GB" (10^9), "8G" / "8GiB" (2^30), "512MB": a size in bytes. */
export function parseByteSize(text: string, flag: string): number {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(text);
    const unit = SIZE_UNITS[(match?.[2] ?? "").toLowerCase()];
    if (match === null || unit === undefined) throw new OrchardError("INVALID_ARGUMENT", `${flag} ${text}: expected a size such as 8GB, 512MB or 16GiB`);
    return Math.round(Number(match[1]) * unit);
}

function formatGb(bytes: number): string {
    return `${(bytes / 1e9).toFixed(1)} GB`;
}
