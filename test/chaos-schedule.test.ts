import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {chaosSchedule, FAULT_KINDS, type ChaosEvent} from "../bench/chaos-schedule.ts";

// The soak (`npm run chaos`) replays a failure from its seed: the schedule must be a pure function of it.
describe("the chaos soak's fault schedule", () => {
    const options = {seed: 42, seconds: 30 * 60, workers: 4, partitions: true};

    it("is a pure function of the seed", () => {
        assert.deepEqual(chaosSchedule(options), chaosSchedule({...options}));
        assert.notDeepEqual(chaosSchedule(options), chaosSchedule({...options, seed: 43}));
    });

    it("holds every kind in 30 minutes, partitions only with namespaces, one fault at a time per target", () => {
        const events = chaosSchedule(options);
        assert.deepEqual(new Set(events.map((e) => e.kind)), new Set(FAULT_KINDS));
        assert.ok(!chaosSchedule({...options, partitions: false}).some((e) => e.kind === "partition"));
        const targetOf = (e: ChaosEvent) => (e.target !== undefined ? `w${e.target}` : e.kind === "cancel" ? "side" : "infra");
        const ends = new Map<string, number>();
        for (const event of events) {
            assert.ok(event.at >= (ends.get(targetOf(event)) ?? 0), `${event.kind} at ${event.at} overlaps the previous fault of ${targetOf(event)}`);
            ends.set(targetOf(event), event.at + event.seconds);
        }
        for (const event of events.filter((e) => e.kind === "worker-sigstop")) assert.ok(event.seconds > 5, "a freeze outlasts the 5 s lock");
        for (const event of events.filter((e) => e.kind === "redis-sigstop")) assert.ok(event.seconds >= 30 && event.seconds <= 120);
    });

    it("makes only joined slots leave, and only free extra slots join", () => {
        const joined = new Set<number>();
        for (const event of chaosSchedule(options)) {
            if (event.kind === "worker-join") {
                assert.ok(event.target !== undefined && event.target >= 4 && !joined.has(event.target));
                joined.add(event.target);
            } else if (event.kind === "worker-leave") {
                assert.ok(event.target !== undefined && joined.delete(event.target));
            } else if (event.target !== undefined) assert.ok(event.target < 4);
        }
    });
});
