// The fault schedule of `npm run chaos`: a pure function of the seed, so a failing soak replays exactly.

export const FAULT_KINDS = ["worker-sigkill", "worker-sigterm", "worker-sigstop", "partition", "worker-join", "worker-leave",
    "coordinator-sigkill", "redis-sigkill", "redis-sigstop", "cancel"] as const;
export type FaultKind = typeof FAULT_KINDS[number];

export interface ChaosEvent {
    /** Seconds from the start of the soak. */
    readonly at: number;
    readonly kind: FaultKind;
    /** The worker slot (worker faults, partitions, joins and leaves). */
    readonly target?: number;
    /** How long the fault lasts: downtime before a restart, a freeze, a cut link, a side run's life before its cancel. */
    readonly seconds: number;
}

export interface ChaosScheduleOptions {
    readonly seed: number;
    /** Length of the fault phase. */
    readonly seconds: number;
    /** Permanent worker slots 0..workers-1; slots workers and workers+1 join and leave. */
    readonly workers: number;
    /** Whether network namespaces exist (partitions need them). */
    readonly partitions: boolean;
}

/** Relative frequency of each kind and the range of its duration in seconds. */
const KINDS: Record<FaultKind, {weight: number; seconds: [number, number]}> = {
    "worker-sigkill": {weight: 4, seconds: [1, 8]},
    "worker-sigterm": {weight: 3, seconds: [1, 8]},
    // longer than the 5 s lock of the soak's workers
    "worker-sigstop": {weight: 3, seconds: [7, 25]},
    "partition": {weight: 3, seconds: [10, 120]},
    "worker-join": {weight: 1, seconds: [0, 0]},
    "worker-leave": {weight: 1, seconds: [0, 0]},
    "coordinator-sigkill": {weight: 2, seconds: [1, 6]},
    "redis-sigkill": {weight: 1.5, seconds: [1, 5]},
    "redis-sigstop": {weight: 0.7, seconds: [30, 120]},
    "cancel": {weight: 0.8, seconds: [5, 40]}
};

/** mulberry32: a small, fast, seedable generator (the soak needs replay, not cryptography). */
function generator(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/**
 * Faults every 2-10 s from 10 s on. One fault at a time per target (a worker slot, the coordinator and
 * Redis together, the side run), so that each ends as scheduled; each kind appears at least once when
 * the phase is long enough (the first events cycle through the kinds).
 */
export function chaosSchedule(options: ChaosScheduleOptions): ChaosEvent[] {
    const random = generator(options.seed);
    const between = (low: number, high: number) => low + (high - low) * random();
    const kinds = FAULT_KINDS.filter((kind) => options.partitions || kind !== "partition");
    const totalWeight = kinds.reduce((sum, kind) => sum + KINDS[kind].weight, 0);
    const busy = new Map<string, number>();
    const joined = new Set<number>();
    const events: ChaosEvent[] = [];
    const pending = [...kinds];
    for (let at = 10; at < options.seconds; at += between(2, 10)) {
        let kind: FaultKind;
        if (pending.length > 0 && random() < 0.5) kind = pending[Math.floor(random() * pending.length)] as FaultKind;
        else {
            let pick = random() * totalWeight;
            kind = kinds.find((k) => (pick -= KINDS[k].weight) < 0) ?? "worker-sigkill";
        }
        const [low, high] = KINDS[kind].seconds;
        const seconds = Math.min(between(low, high), Math.max(low, options.seconds - at));
        const free = (target: string) => (busy.get(target) ?? 0) <= at;
        let target: number | undefined;
        let key: string;
        if (kind === "worker-join" || kind === "worker-leave") {
            const candidates = [options.workers, options.workers + 1].filter((slot) => free(`w${slot}`) && joined.has(slot) === (kind === "worker-leave"));
            if (candidates.length === 0) continue;
            target = candidates[Math.floor(random() * candidates.length)] as number;
            if (kind === "worker-join") joined.add(target);
            else joined.delete(target);
            key = `w${target}`;
        } else if (kind.startsWith("worker-") || kind === "partition") {
            const candidates = Array.from({length: options.workers}, (_, slot) => slot).filter((slot) => free(`w${slot}`));
            if (candidates.length === 0) continue;
            target = candidates[Math.floor(random() * candidates.length)] as number;
            key = `w${target}`;
        } else key = kind === "cancel" ? "side" : "infra";
        if (!free(key)) continue;
        // a few seconds of calm on the target after each fault, so that recoveries are exercised too
        busy.set(key, at + seconds + 5);
        events.push({at, kind, ...(target === undefined ? {} : {target}), seconds});
        pending.splice(pending.indexOf(kind) >>> 0, pending.includes(kind) ? 1 : 0);
    }
    return events;
}
