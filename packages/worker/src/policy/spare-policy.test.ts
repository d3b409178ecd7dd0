import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {inSchedule, parseSchedule} from "./schedule.ts";
import {evaluateSparePolicy, hasSparePolicy, parseByteSize, parseDurationMs, resolveSparePolicy} from "./spare-policy.ts";

/** Local time (the schedule's clock): 2026-11-30 is a Monday. */
function at(day: number, hours: number, minutes = 0): Date {
    return new Date(2026, 10, 29 + day, hours, minutes);
}
const SUN = 0, MON = 1, FRI = 5, SAT = 6;

function isInvalid(flag: string) {
    return (error: unknown) => (error as {code?: string}).code === "INVALID_ARGUMENT" && (error as Error).message.includes(flag);
}

describe("--schedule: local-time windows, several, weekdays optional", () => {
    it("a window past midnight belongs to the day it starts on", () => {
        const nights = parseSchedule("22:00-07:00");
        assert.deepEqual([at(MON, 21, 59), at(MON, 22, 0), at(MON, 23, 30), at(MON, 6, 59), at(MON, 7, 0), at(MON, 12, 0)].map((time) => inSchedule(nights, time)),
            [false, true, true, true, false, false]);
        const fridayNight = parseSchedule("fri 22:00-07:00");
        assert.deepEqual([at(FRI, 23), at(SAT, 6), at(SAT, 23), at(FRI, 6)].map((time) => inSchedule(fridayNight, time)), [true, true, false, false]);
    });

    it("several windows, ranges (wrapping too) and day lists; 24:00 ends the day", () => {
        const windows = parseSchedule("mon-fri 19:00-08:00, sat+sun 00:00-24:00");
        // Monday 07:00 would be the morning of a Sunday-night window, and there is none; Tuesday's is Monday night's
        assert.deepEqual([at(MON, 12), at(MON, 20), at(SAT, 12), at(SUN, 23, 59), at(MON, 7), at(MON + 1, 7)].map((time) => inSchedule(windows, time)),
            [false, true, true, true, false, true]);
        const weekend = parseSchedule("fri-mon 09:00-17:00");
        assert.deepEqual([at(FRI, 10), at(SAT, 10), at(MON, 10), at(MON + 1, 10)].map((time) => inSchedule(weekend, time)), [true, true, true, false]);
    });

    it("refuses what it cannot read, naming the window", () => {
        for (const bad of ["22-07", "25:00-07:00", "10:61-11:00", "funday 10:00-11:00", "10:00-10:00", "", "24:00-01:00"])
            assert.throws(() => parseSchedule(bad), isInvalid("--schedule"), bad);
    });
});

describe("the spare-machine policy's decision", () => {
    const policy = resolveSparePolicy({schedule: "22:00-07:00", whenIdle: "10m", requireAc: true, maxThermal: 0, minFreeMemory: "8GB"});
    const spare = {idleMs: 11 * 60_000, onAcPower: true, thermalLevel: 0, freeMemoryBytes: 20e9};

    it("allows work when every check passes; otherwise names the first failing one", () => {
        assert.deepEqual(evaluateSparePolicy(policy, spare, at(MON, 23)), {allowed: true});
        assert.deepEqual(evaluateSparePolicy(policy, spare, at(MON, 12)), {allowed: false, reason: "outside 22:00-07:00"});
        assert.deepEqual(evaluateSparePolicy(policy, {...spare, idleMs: 30_000}, at(MON, 23)), {allowed: false, reason: "user active"});
        assert.deepEqual(evaluateSparePolicy(policy, {...spare, onAcPower: false}, at(MON, 23)), {allowed: false, reason: "on battery"});
        assert.deepEqual(evaluateSparePolicy(policy, {...spare, thermalLevel: 2}, at(MON, 23)), {allowed: false, reason: "thermal pressure (level 2)"});
        assert.deepEqual(evaluateSparePolicy(policy, {...spare, freeMemoryBytes: 3e9}, at(MON, 23)), {allowed: false, reason: "low memory (under 8.0 GB free)"});
        // the schedule is named before the user, the user before power
        assert.deepEqual(evaluateSparePolicy(policy, {...spare, idleMs: 0, onAcPower: false}, at(MON, 12)), {allowed: false, reason: "outside 22:00-07:00"});
    });

    it("without flags there is no policy; a higher --max-thermal tolerates some pressure", () => {
        assert.equal(hasSparePolicy(resolveSparePolicy({})), false);
        assert.equal(hasSparePolicy(resolveSparePolicy({requireAc: false})), false);
        assert.deepEqual(evaluateSparePolicy(resolveSparePolicy({maxThermal: 1}), {thermalLevel: 1}, at(MON, 12)), {allowed: true});
    });

    it("durations and sizes with their units; anything else names the flag", () => {
        assert.deepEqual(["90s", "10m", "1h", "1.5h"].map((text) => parseDurationMs(text, "--when-idle")), [90_000, 600_000, 3_600_000, 5_400_000]);
        assert.deepEqual(["8GB", "8G", "16GiB", "512MB"].map((text) => parseByteSize(text, "--min-free-memory")), [8e9, 8 * 1024 ** 3, 16 * 1024 ** 3, 512e6]);
        assert.throws(() => resolveSparePolicy({whenIdle: "10"}), isInvalid("--when-idle 10"));
        assert.throws(() => resolveSparePolicy({minFreeMemory: "lots"}), isInvalid("--min-free-memory lots"));
        assert.throws(() => resolveSparePolicy({maxThermal: -1}), isInvalid("--max-thermal"));
    });
});
