import assert from "node:assert/strict";
import {createServer} from "node:http";
import {describe, it} from "node:test";
import {chooseRedisBackend, dockerEndpoints, systemRedisBackendProbes, type RedisBackendProbes} from "./support/redis-backend.ts";
import {TestRedisServer} from "./support/redis-server.ts";

function probes(hasRedisServer: boolean, engine: boolean): RedisBackendProbes {
    return {hasRedisServer: () => hasRedisServer, containerEngineReachable: async () => engine};
}

/** Runs `body` with DOCKER_HOST set to `value`, restoring it after. */
async function withDockerHost<T>(value: string, body: () => Promise<T>): Promise<T> {
    const before = process.env["DOCKER_HOST"];
    process.env["DOCKER_HOST"] = value;
    try {
        return await body();
    } finally {
        if (before === undefined) delete process.env["DOCKER_HOST"];
        else process.env["DOCKER_HOST"] = before;
    }
}

describe("test Redis: testcontainers or a spawned redis-server (ORCHARD_TEST_REDIS)", () => {
    it("container when asked and an engine answers; spawn when asked or when redis-server is there; a container when only an engine is", async () => {
        assert.equal(await chooseRedisBackend("container", probes(true, true)), "container");
        assert.equal(await chooseRedisBackend("spawn", probes(true, true)), "spawn");
        assert.equal(await chooseRedisBackend(undefined, probes(true, true)), "spawn");
        assert.equal(await chooseRedisBackend("auto", probes(false, true)), "container");
        assert.equal(await chooseRedisBackend(undefined, probes(false, true)), "container");
    });

    it("says what to install or start when the choice cannot be met", async () => {
        await assert.rejects(chooseRedisBackend("container", probes(true, false)), /ORCHARD_TEST_REDIS=container, but no container engine answers/);
        await assert.rejects(chooseRedisBackend("spawn", probes(false, true)), /redis-server is not installed/);
        await assert.rejects(chooseRedisBackend(undefined, probes(false, false)), /install redis-server .* or start a container engine/);
        await assert.rejects(chooseRedisBackend("docker", probes(true, true)), /expected spawn, container or auto/);
    });

    it("finds an engine by its /_ping on DOCKER_HOST, and none where nothing answers", async (t) => {
        assert.deepEqual(dockerEndpoints("unix:///run/user/1000/docker.sock"), [{socketPath: "/run/user/1000/docker.sock"}]);
        assert.deepEqual(dockerEndpoints("tcp://10.0.0.5:2376"), [{host: "10.0.0.5", port: 2376}]);
        const engine = createServer((request, response) => response.writeHead(request.url === "/_ping" ? 200 : 404).end("OK"));
        await new Promise<void>((resolve) => engine.listen(0, "127.0.0.1", resolve));
        t.after(() => engine.close());
        const port = (engine.address() as {port: number}).port;
        assert.equal(await withDockerHost(`tcp://127.0.0.1:${port}`, () => systemRedisBackendProbes.containerEngineReachable()), true);
        engine.close();
        await new Promise((resolve) => engine.once("close", resolve));
        assert.equal(await withDockerHost(`tcp://127.0.0.1:${port}`, () => systemRedisBackendProbes.containerEngineReachable()), false);
    });

    it("without ORCHARD_TEST_REDIS on a machine with redis-server, tests spawn it (the fallback)", {skip: process.env["ORCHARD_TEST_REDIS"] !== undefined && process.env["ORCHARD_TEST_REDIS"] !== ""}, async () => {
        assert.equal(systemRedisBackendProbes.hasRedisServer(), true);
        await using redis = await TestRedisServer.start();
        assert.ok(redis.pid !== undefined, "a redis-server child process");
        assert.equal(await redis.command("PING"), "PONG");
    });
});
