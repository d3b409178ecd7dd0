import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {OrchardError, resolveNumericsSettings, type NumericsSettings} from "@orchard/shared";
import {EngineSwitch} from "./engine-switch.ts";
import type {ShardEngine} from "./shard-engine.ts";
import {SimulatedShardEngine} from "./simulated-shard-engine.ts";

/** A simulated engine that says it computes with `numerics` (what a llama engine loaded with them reports). */
function engineWith(numerics: NumericsSettings, closed: NumericsSettings[]): ShardEngine {
    const engine = new SimulatedShardEngine({tokensPerSecond: 1e9});
    return Object.assign(engine, {numerics, close: async () => void closed.push(numerics)}) as unknown as ShardEngine;
}

const A = resolveNumericsSettings({}, 1024);
const B = resolveNumericsSettings({batchSize: 64}, 1024);
const ONE_PASS_ONLY = resolveNumericsSettings({engineRoute: "one-pass", batchSize: 32}, 1024);

describe("EngineSwitch: a worker computes each run with the run's numerics", () => {
    it("shares the loaded engine between shards of the same settings; other settings wait for them, then reload", async () => {
        const loads: (NumericsSettings | undefined)[] = [];
        const closed: NumericsSettings[] = [];
        const own = resolveNumericsSettings({batchSize: 512, engineRoute: "three-pass"}, 1024);
        const engines = new EngineSwitch(async (numerics) => (loads.push(numerics), engineWith(numerics ?? own, closed)), engineWith(own, closed));

        const first = await engines.acquire(A);
        assert.equal(first.kind, "engine");
        assert.deepEqual(loads, [A], "the worker's own engine (three-pass) is replaced by the run's");
        const second = await engines.acquire(A);
        assert.equal(second.kind === "engine" && first.kind === "engine" && second.engine === first.engine, true, "the same settings share the engine");

        let switched = false;
        const other = engines.acquire(B).then((lease) => ((switched = true), lease));
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(switched, false, "the switch waits for the shards in hand");
        if (first.kind === "engine") first.release();
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(switched, false);
        if (second.kind === "engine") second.release();
        const lease = await other;
        assert.equal(lease.kind === "engine" && lease.engine.numerics === B, true);
        assert.deepEqual(loads, [A, B]);
        assert.deepEqual(closed, [own, A]);

        // a shard of an older coordinator names no numerics: whatever is loaded computes it
        const legacy = await engines.acquire(undefined);
        assert.equal(legacy.kind === "engine" && legacy.engine.numerics === B, true);
        assert.deepEqual(loads, [A, B]);
    });

    it("refuses settings this machine cannot compute, once asked, without loading again; other settings still load", async () => {
        let loads = 0;
        const engines = new EngineSwitch(async (numerics) => {
            loads++;
            if (numerics?.engineRoute === "one-pass" && numerics.batchSize === 32) throw new OrchardError("ENGINE_UNSUPPORTED", "no internals here");
            return engineWith(numerics as NumericsSettings, []);
        }, undefined);
        for (let i = 0; i < 2; i++) {
            const lease = await engines.acquire(ONE_PASS_ONLY);
            assert.equal(lease.kind, "refused");
            assert.match(lease.kind === "refused" ? lease.reason : "", /cannot compute the run's numerics \(batch 32, one-pass.*no internals here/);
        }
        assert.equal(loads, 1);
        assert.equal((await engines.acquire(A)).kind, "engine");
    });

    it("an engine whose results depend on no setting (the simulated one) serves every run without reloading", async () => {
        let loads = 0;
        const engines = new EngineSwitch(async () => (loads++, new SimulatedShardEngine({tokensPerSecond: 1e9})), new SimulatedShardEngine({tokensPerSecond: 1e9}));
        for (const numerics of [A, B, ONE_PASS_ONLY]) assert.equal((await engines.acquire(numerics)).kind, "engine");
        assert.equal(loads, 0);
    });
});
