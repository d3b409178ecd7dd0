import assert from "node:assert/strict";
import {mkdtemp, readFile, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, describe, it} from "node:test";
import {OrchardError} from "@orchard/shared";
import {EmbeddedRedis} from "./embedded-redis.ts";
import {pingRedis} from "./ping-redis.ts";

/** Temporary folders of this file's tests, removed when they are done. */
const tempDirs: string[] = [];
after(() => Promise.all(tempDirs.splice(0).map((dir) => rm(dir, {recursive: true, force: true}))));
async function tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    tempDirs.push(dir);
    return dir;
}

describe("EmbeddedRedis", () => {
    it("says how to install redis-server when it is missing", async () => {
        const stateDir = await tempDir("orchard-state-");
        await assert.rejects(EmbeddedRedis.start({stateDir, binary: "orchard-no-such-redis-server"}), (error: unknown) =>
            error instanceof OrchardError && error.code === "REDIS_UNAVAILABLE" && /brew install redis/.test(error.message) && /apt-get install redis-server/.test(error.message));
    });

    it("starts with AOF and noeviction, records its endpoint, and is adopted rather than started twice", async () => {
        const stateDir = await tempDir("orchard-state-");
        const redis = await EmbeddedRedis.start({stateDir});
        try {
            assert.ok(await pingRedis("127.0.0.1", redis.port, undefined));
            const endpoint = JSON.parse(await readFile(join(stateDir, "redis", "endpoint.json"), "utf8")) as {port: number; pid: number; ownerPid: number};
            assert.deepEqual([endpoint.port, endpoint.pid, endpoint.ownerPid], [redis.port, redis.pid, process.pid]);
            // the same process starting it again (as a resumed coordinator would after a crash) adopts the running server
            const again = await EmbeddedRedis.start({stateDir});
            assert.equal(again.pid, redis.pid);
            assert.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
            // two objects for one server only happen here; stopped together, neither restarts it
            await Promise.all([redis.stop(), again.stop()]);
        } finally {
            await redis.stop();
        }
        assert.equal(await pingRedis("127.0.0.1", redis.port, undefined, 300), false);
    });
});
