import assert from "node:assert/strict";
import {execFile} from "node:child_process";
import {chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {describe, it, type TestContext} from "node:test";
import {promisify} from "node:util";
import {OrchardError} from "@orchard/shared";
import {EmbeddedRedis} from "./embedded-redis.ts";
import {pingRedis} from "./ping-redis.ts";

async function stateDirFor(t: TestContext): Promise<string> {
    const stateDir = await mkdtemp(join(tmpdir(), "orchard-state-"));
    t.after(() => rm(stateDir, {recursive: true, force: true}));
    return stateDir;
}

/** The command line of a process as every local user sees it in `ps`. */
async function commandLineOf(pid: number): Promise<string> {
    return (await promisify(execFile)("ps", ["-ww", "-o", "args=", "-p", String(pid)])).stdout;
}

/** Permission bits of every entry under `dir` (itself included), by path relative to it. */
async function modesUnder(dir: string, prefix = "."): Promise<Map<string, {dir: boolean; mode: number}>> {
    const info = await stat(dir);
    const modes = new Map([[prefix, {dir: true, mode: info.mode & 0o777}]]);
    for (const entry of await readdir(dir, {withFileTypes: true})) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) for (const [key, value] of await modesUnder(path, join(prefix, entry.name))) modes.set(key, value);
        else modes.set(join(prefix, entry.name), {dir: false, mode: (await stat(path)).mode & 0o777});
    }
    return modes;
}

describe("EmbeddedRedis", () => {
    it("says how to install redis-server when it is missing", async (t) => {
        const stateDir = await stateDirFor(t);
        await assert.rejects(EmbeddedRedis.start({stateDir, binary: "orchard-no-such-redis-server"}), (error: unknown) =>
            error instanceof OrchardError && error.code === "REDIS_UNAVAILABLE" && /brew install redis/.test(error.message) && /apt-get install redis-server/.test(error.message));
    });

    it("starts with AOF and noeviction, records its endpoint, and is adopted rather than started twice", async (t) => {
        const stateDir = await stateDirFor(t);
        const redis = await EmbeddedRedis.start({stateDir});
        try {
            assert.ok(await pingRedis("127.0.0.1", redis.port, redis.password));
            const endpoint = JSON.parse(await readFile(join(stateDir, "redis", "endpoint.json"), "utf8")) as {port: number; pid: number; ownerPid: number};
            assert.deepEqual([endpoint.port, endpoint.pid, endpoint.ownerPid], [redis.port, redis.pid, process.pid]);
            // the same process starting it again (as a resumed coordinator would after a crash) adopts the running server
            const again = await EmbeddedRedis.start({stateDir});
            assert.equal(again.pid, redis.pid);
            assert.equal(again.password, redis.password);
            assert.match(redis.url, /^redis:\/\/:[^@]+@127\.0\.0\.1:\d+$/);
            // two objects for one server only happen here; stopped together, neither restarts it
            await Promise.all([redis.stop(), again.stop()]);
        } finally {
            await redis.stop();
        }
        assert.equal(await pingRedis("127.0.0.1", redis.port, undefined, 300), false);
    });

    it("has a password on loopback too, never on its command line, and refuses commands without it", async (t) => {
        const stateDir = await stateDirFor(t);
        await using redis = await EmbeddedRedis.start({stateDir});
        const password = redis.password as string;
        assert.ok(password.length >= 16, "a generated password");
        assert.equal(await pingRedis("127.0.0.1", redis.port, undefined), false, "PING without AUTH is refused");
        assert.equal(await pingRedis("127.0.0.1", redis.port, password), true);
        const commandLine = await commandLineOf(redis.pid);
        assert.match(commandLine, /redis-server/);
        assert.ok(!commandLine.includes(password), `the password is on the command line: ${commandLine}`);
        assert.ok(!/requirepass/.test(commandLine), commandLine);
        // the settings are in a file only the owner reads
        assert.equal((await stat(join(stateDir, "redis", "redis.conf"))).mode & 0o777, 0o600);
    });

    it("keeps the state folder private: created 700 with files 600, and an older, looser folder is tightened", async (t) => {
        const stateDir = await stateDirFor(t);
        // a folder as an older Orchard (or a loose umask) left it
        await mkdir(join(stateDir, "redis", "appendonlydir"), {recursive: true});
        await writeFile(join(stateDir, "redis", "redis.log"), "old log\n");
        for (const [path, mode] of [[stateDir, 0o755], [join(stateDir, "redis"), 0o755], [join(stateDir, "redis", "appendonlydir"), 0o777], [join(stateDir, "redis", "redis.log"), 0o644]] as const)
            await chmod(path, mode);
        {
            await using redis = await EmbeddedRedis.start({stateDir});
            assert.ok(await pingRedis("127.0.0.1", redis.port, redis.password));
            const modes = await modesUnder(stateDir);
            // redis-server's own files (AOF, manifest) are there and private too
            assert.ok([...modes.keys()].some((path) => path.includes("appendonly.aof")), [...modes.keys()].join(", "));
            for (const [path, {dir, mode}] of modes) assert.equal(mode, dir ? 0o700 : 0o600, `${path} has mode ${mode.toString(8)}`);
        }
        // a new folder (and its parents that Orchard creates) starts private
        const fresh = join(stateDir, "nested", "state");
        await using again = await EmbeddedRedis.start({stateDir: fresh});
        assert.equal((await stat(fresh)).mode & 0o777, 0o700);
        assert.equal((await stat(join(fresh, "redis"))).mode & 0o777, 0o700);
    });

    it("refuses a state folder that is a file, with a one-line error naming it", async (t) => {
        const stateDir = await stateDirFor(t);
        const file = join(stateDir, "a-file");
        await writeFile(file, "");
        await assert.rejects(EmbeddedRedis.start({stateDir: file}), (error: unknown) =>
            error instanceof OrchardError && error.code === "INVALID_ARGUMENT" && error.message.includes(file) && !error.message.includes("\n"));
    });
});
