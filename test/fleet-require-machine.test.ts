import assert from "node:assert/strict";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {runCoordinator, StatusCollector} from "@orchard/coordinator";
import {connectRedis} from "@orchard/shared";
import {createShardEngine, startFleetWorker, type ShardEngine, type ShardEngineFactory} from "@orchard/worker";
import {removeTempDir, tempDir, tinyModel, writeJsonl} from "./support/orchard-cli.ts";
import {TestRedisServer} from "./support/redis-server.ts";

const SIMULATED = {tokensPerSecond: 100_000};
const REQUIRED_CHIP = "Orchard Test Accelerator";

/** The worker's own engine, reporting another chip: a machine of another kind, as the run sees it. */
function engineOnChip(chip: string): ShardEngineFactory {
    return async (init) => {
        const engine = await createShardEngine(init);
        const machine = {...engine.machine, chip};
        return new Proxy(engine, {
            get: (target, key) => key === "machine" ? machine : typeof target[key as keyof ShardEngine] === "function"
                ? (target[key as keyof ShardEngine] as (...args: unknown[]) => unknown).bind(target) : target[key as keyof ShardEngine]
        });
    };
}

let redis: TestRedisServer;
let dir: string;

describe("orchard run --require-chip / --require-backend: other machines leave the run's shards alone", () => {
    before(async () => {
        redis = await TestRedisServer.start();
        dir = await tempDir("orchard-require-");
    });
    after(async () => {
        await redis?.stop();
        await removeTempDir(dir);
    });

    it("a worker on another chip refuses the shards (status says why the run waits); a worker on the required chip computes them all", async () => {
        const keyPrefix = "require-chip";
        const model = await tinyModel();
        const input = await writeJsonl(join(dir, "docs.jsonl"), Array.from({length: 6}, (_, i) => ({id: `d${i}`, label: 0, document: `document number ${i}`})));
        let announce: (runId: string) => void = () => undefined;
        const started = new Promise<string>((resolve) => (announce = resolve));
        await using other = await startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, name: "w-other", simulatedEngine: SIMULATED});
        const running = runCoordinator({
            modelPath: model, inputPaths: [input], outputDir: join(dir, "out"), stateDir: join(dir, ".orchard"), redisUrl: redis.url, keyPrefix, localWorkers: 0,
            shardSize: 2, pollIntervalMs: 50, simulatedEngine: SIMULATED, requires: {chip: "test accelerator"}, onEvent: (event) => event.type === "started" && announce(event.runId)
        });
        const runId = await started;
        const client = await connectRedis(redis.url, {name: "require-test"});
        const collector = new StatusCollector({redis: client, keyPrefix});
        try {
            // the other worker takes the shards, and gives each back with its reason
            let status = await collector.run(runId);
            while (status.refusals?.length === 0) {
                await new Promise((resolve) => setTimeout(resolve, 100));
                status = await collector.run(runId);
            }
            assert.equal(status.refusals?.[0]?.worker, "w-other");
            assert.match(status.refusals?.[0]?.reason ?? "", /requires a chip matching "test accelerator"/);
            assert.ok(status.problems.some((problem) => problem.startsWith("worker w-other leaves this run's shards alone")), status.problems.join("\n"));
            assert.deepEqual(status.requires, {backend: null, chip: "test accelerator"});
            assert.equal(status.documents.merged, 0);

            await using matching = await startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, name: "w-match", simulatedEngine: SIMULATED, createEngine: engineOnChip(REQUIRED_CHIP)});
            const summary = await running;
            assert.equal(summary.status, "completed");
            assert.equal(matching.stats.documents, 6);
            assert.equal(other.stats.shards, 0, "a worker on another chip never computes the run's shards");
            const done = await collector.run(runId);
            assert.deepEqual(done.machines?.map((machine) => [machine.chip, machine.documents]), [[REQUIRED_CHIP, 6]]);
            assert.deepEqual(done.refusals, [], "a finished run drops its refusals");
        } finally {
            await collector.close();
            await client.quit();
        }
    });
});
