import assert from "node:assert/strict";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {runCoordinator} from "@orchard/coordinator";
import {FleetKeys, OrchardError, runSpecSchema, type NumericsOptions} from "@orchard/shared";
import {startFleetWorker} from "@orchard/worker";
import {removeTempDir, tempDir, tinyModel, writeJsonl} from "./support/orchard-cli.ts";
import {TestRedisServer} from "./support/redis-server.ts";

let redis: TestRedisServer;
let dir: string;

describe("a run's numerics are part of the run: the same command with other numerics is refused", () => {
    before(async () => {
        redis = await TestRedisServer.start();
        dir = await tempDir("orchard-numerics-identity-");
    });
    after(async () => {
        await redis?.stop();
        await removeTempDir(dir);
    });

    it("refuses other numerics (RUN_RECORD_MISMATCH naming the setting); a run made before numerics were recorded goes on only with today's defaults and no prefix reuse", async () => {
        const keyPrefix = "numerics-identity";
        const model = await tinyModel();
        const input = await writeJsonl(join(dir, "docs.jsonl"), [{id: "a", label: 0, document: "one"}, {id: "b", label: 1, document: "two"}]);
        const run = (numerics: NumericsOptions) => runCoordinator({
            modelPath: model, inputPaths: [input], outputDir: join(dir, "out"), stateDir: join(dir, ".orchard"), redisUrl: redis.url, keyPrefix, localWorkers: 0,
            pollIntervalMs: 50, simulatedEngine: {tokensPerSecond: 100_000}, numerics
        });
        const refused = (field: string) => (error: unknown) => error instanceof OrchardError && error.code === "RUN_RECORD_MISMATCH" && error.message.includes(`its ${field} differs`);
        let runId: string;
        {
            await using _worker = await startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, simulatedEngine: {tokensPerSecond: 100_000}});
            const first = await run({});
            assert.equal(first.status, "completed");
            runId = first.runId;
        }
        await assert.rejects(run({batchSize: 64}), refused("numerics.batchSize"));
        await assert.rejects(run({engineRoute: "three-pass"}), refused("numerics.engineRoute"));
        assert.equal((await run({engineRoute: "auto"})).alreadyComplete, true, "auto is what the run pinned: one-pass");

        // the record of a run made before numerics: no `numerics` in its spec
        const key = new FleetKeys(keyPrefix).run(runId);
        const {numerics: _numerics, ...legacy} = runSpecSchema.parse(JSON.parse(await redis.command("HGET", key, "spec") as string));
        await redis.command("HSET", key, "spec", JSON.stringify(legacy));
        // today's defaults, but without prefix reuse: such a run evaluated every prompt in full
        assert.equal((await run({prefixReuse: "off"})).alreadyComplete, true);
        await assert.rejects(run({}), refused("numerics"));
        await assert.rejects(run({prefixReuse: "off", flashAttention: false}), refused("numerics"));
    });
});
