import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {ShardWakeLock, type WakeLockRunner} from "./shard-wake-lock.ts";

/** Records the keep-awake processes started and stopped. */
function recordingRunner() {
    const calls: string[] = [];
    let running = 0;
    const runner: WakeLockRunner = {
        start(command, args) {
            calls.push(`start ${command} ${args.join(" ")}`);
            running++;
            return {stop: () => (calls.push("stop"), running--)};
        }
    };
    return {runner, calls, running: () => running};
}

describe("ShardWakeLock (caffeinate while a shard runs)", () => {
    it("on macOS: caffeinate -i -w <pid> from the first shard held to the last released, once per busy spell", () => {
        const {runner, calls, running} = recordingRunner();
        const lock = new ShardWakeLock({platform: "darwin", runner, pid: 4242});
        const first = lock.hold();
        const second = lock.hold();
        assert.deepEqual(calls, ["start caffeinate -i -w 4242"]);
        first();
        first();
        assert.equal(running(), 1, "one shard still runs; a release is counted once");
        second();
        assert.deepEqual(calls, ["start caffeinate -i -w 4242", "stop"]);
        const third = lock.hold();
        lock.close();
        third();
        assert.deepEqual(calls, ["start caffeinate -i -w 4242", "stop", "start caffeinate -i -w 4242", "stop"]);
        assert.equal(running(), 0);
    });

    it("elsewhere: nothing is started", () => {
        const {runner, calls} = recordingRunner();
        const lock = new ShardWakeLock({platform: "linux", runner});
        lock.hold()();
        lock.close();
        assert.deepEqual(calls, []);
    });
});
