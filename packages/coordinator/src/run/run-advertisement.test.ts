import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {encodeFleetTxt} from "@orchard/shared";
import {advertisedRedisOf, runAdvertisement} from "./run-advertisement.ts";

describe("what a coordinator advertises", () => {
    it("by default, only an embedded Redis that listens beyond loopback", () => {
        assert.equal(advertisedRedisOf({advertise: undefined, redisUrl: undefined, redisBind: undefined}), undefined);
        assert.equal(advertisedRedisOf({advertise: undefined, redisUrl: undefined, redisBind: "127.0.0.1"}), undefined);
        assert.deepEqual(advertisedRedisOf({advertise: undefined, redisUrl: undefined, redisBind: "0.0.0.0"}), {host: undefined, port: undefined, tls: false});
        assert.deepEqual(advertisedRedisOf({advertise: undefined, redisUrl: undefined, redisBind: "192.168.1.20"}), {host: "192.168.1.20", port: undefined, tls: false});
        assert.equal(advertisedRedisOf({advertise: false, redisUrl: undefined, redisBind: "0.0.0.0"}), undefined, "--no-advertise");
        assert.equal(advertisedRedisOf({advertise: undefined, redisUrl: "redis://:pw@fleet.lan:6379", redisBind: undefined}), undefined, "a --redis URL only when asked");
    });

    it("--advertise with a --redis URL: its host, port and TLS; a Redis only this machine reaches is refused", () => {
        assert.deepEqual(advertisedRedisOf({advertise: true, redisUrl: "rediss://:pw@fleet.lan:6380/0", redisBind: undefined}), {host: "fleet.lan", port: 6380, tls: true});
        assert.deepEqual(advertisedRedisOf({advertise: true, redisUrl: "redis://[fd00::5]", redisBind: undefined}), {host: "fd00::5", port: 6379, tls: false});
        for (const redisUrl of ["redis://:pw@127.0.0.1:6379", "redis://localhost:6379", "redis://[::1]:6379"])
            assert.throws(() => advertisedRedisOf({advertise: true, redisUrl, redisBind: undefined}), {code: "INVALID_ARGUMENT"}, redisUrl);
        assert.throws(() => advertisedRedisOf({advertise: true, redisUrl: undefined, redisBind: undefined}), {code: "INVALID_ARGUMENT", message: /--redis-bind 0\.0\.0\.0/});
    });

    it("the advertisement: this host's name and the Redis port as its name, the run ids, never the password", () => {
        const url = "rediss://:s3cret-pass@fleet.lan:6380";
        const advertisement = runAdvertisement(advertisedRedisOf({advertise: true, redisUrl: url, redisBind: undefined})!, {embeddedPort: undefined, keyPrefix: "orchard", runIds: ["reviews-0a1b2c3d"], hostName: "studio.local"});
        assert.equal(advertisement.name, "studio-6380");
        assert.deepEqual(advertisement.runs, ["reviews-0a1b2c3d"]);
        assert.ok(!JSON.stringify(encodeFleetTxt(advertisement)).includes("s3cret"));
        const embedded = runAdvertisement({host: undefined, port: undefined, tls: false}, {embeddedPort: 41234, keyPrefix: "orchard", runIds: [], hostName: "mini"});
        assert.equal(embedded.redisPort, 41234);
        assert.equal(embedded.name, "mini-41234");
    });
});
