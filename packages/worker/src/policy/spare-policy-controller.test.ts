import assert from "node:assert/strict";
import {describe, it} from "node:test";
import type {MachineProbes} from "./machine-probes.ts";
import {SparePolicyController} from "./spare-policy-controller.ts";
import {resolveSparePolicy, type PolicyDecision} from "./spare-policy.ts";

/** Probes whose answers the test sets. */
function fakeProbes(facts: {idleMs: number; onAcPower: boolean}): MachineProbes {
    return {
        idleMs: async () => facts.idleMs,
        onAcPower: async () => facts.onAcPower,
        thermalLevel: async () => 0,
        freeMemoryBytes: async () => 64e9
    };
}

describe("SparePolicyController: decides with fake probes and a fake clock, tells the worker on changes only", () => {
    it("starts with the first decision, then reports each change once, in order", async () => {
        const facts = {idleMs: 0, onAcPower: true};
        let now = new Date(2026, 10, 30, 23, 0);
        using controller = await SparePolicyController.start({
            policy: resolveSparePolicy({schedule: "22:00-07:00", whenIdle: "10m", requireAc: true}), probes: fakeProbes(facts), now: () => now, checkIntervalMs: 0
        });
        assert.deepEqual(controller.decision, {allowed: false, reason: "user active"});
        const changes: PolicyDecision[] = [];
        controller.onChange((decision) => void changes.push(decision));

        await controller.check();
        assert.deepEqual(changes, [], "no change, no call");
        facts.idleMs = 11 * 60_000;
        await controller.check();
        facts.onAcPower = false;
        await controller.check();
        await controller.check();
        facts.onAcPower = true;
        now = new Date(2026, 11, 1, 7, 30);
        await controller.check();
        assert.deepEqual(changes, [{allowed: true}, {allowed: false, reason: "on battery"}, {allowed: false, reason: "outside 22:00-07:00"}]);
    });

    it("checks never overlap: a slow listener (finishing a shard) delays the next check", async () => {
        const facts = {idleMs: 0, onAcPower: true};
        using controller = await SparePolicyController.start({policy: resolveSparePolicy({whenIdle: "1m"}), probes: fakeProbes(facts), checkIntervalMs: 0});
        let release: () => void = () => undefined;
        const calls: boolean[] = [];
        controller.onChange(async (decision) => {
            calls.push(decision.allowed);
            await new Promise<void>((resolve) => (release = resolve));
        });
        facts.idleMs = 120_000;
        const first = controller.check();
        const second = controller.check();
        assert.equal(first, second, "a check asked for while one runs is that check");
        await new Promise((resolve) => setImmediate(resolve));
        release();
        assert.deepEqual(await first, {allowed: true});
        assert.deepEqual(calls, [true]);
    });

    it("a probe that fails after start keeps the last decision", async () => {
        let fail = false;
        const probes = {...fakeProbes({idleMs: 120_000, onAcPower: true}), idleMs: async () => {
            if (fail) throw new Error("ioreg timed out");
            return 120_000;
        }};
        using controller = await SparePolicyController.start({policy: resolveSparePolicy({whenIdle: "1m"}), probes, checkIntervalMs: 0});
        fail = true;
        assert.deepEqual(await controller.check(), {allowed: true});
    });
});
