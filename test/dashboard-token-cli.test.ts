import assert from "node:assert/strict";
import {rm, writeFile} from "node:fs/promises";
import {join} from "node:path";
import {describe, it} from "node:test";
import {runOrchard, tempDir} from "./support/orchard-cli.ts";
import {OrchardProcess} from "./support/orchard-process.ts";
import {TestRedisServer} from "./support/redis-server.ts";

const TOKEN = "token-file-0123456789abcdef";

/** JSON log records of a process' stderr. */
function records(stderr: string): Record<string, unknown>[] {
    return stderr.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("orchard dashboard: the token from a file or the environment; one on the command line is warned about", () => {
    it("--token-file: the dashboard requires the file's token, and nothing warns", async (t) => {
        await using redis = await TestRedisServer.start();
        const dir = await tempDir("orchard-token-");
        t.after(() => rm(dir, {recursive: true, force: true}));
        const file = join(dir, "token");
        await writeFile(file, `${TOKEN}\n`, {mode: 0o600});
        const dashboard = OrchardProcess.start(["dashboard", "--port", "0", "--redis", redis.url, "--token-file", file, "--log-format", "json"]);
        try {
            const [, url] = await dashboard.waitFor(/Dashboard: (http:\/\/127\.0\.0\.1:\d+)\//);
            assert.equal((await fetch(`${url}/api/status`)).status, 401);
            assert.equal((await fetch(`${url}/api/status`, {headers: {authorization: `Bearer ${TOKEN}`}})).status, 200);
        } finally {
            await dashboard.stop();
        }
        assert.deepEqual(records(dashboard.stderr).filter((record) => record["secretOnCommandLine"] !== undefined), []);
    });

    it("--token on the command line still works, with a warning naming the flag; a missing --token-file is a one-line error", async (t) => {
        await using redis = await TestRedisServer.start();
        const dashboard = OrchardProcess.start(["dashboard", "--port", "0", "--redis", redis.url, "--token", TOKEN, "--log-format", "json"]);
        try {
            const [, url] = await dashboard.waitFor(/Dashboard: (http:\/\/127\.0\.0\.1:\d+)\//);
            assert.equal((await fetch(`${url}/api/status`, {headers: {authorization: `Bearer ${TOKEN}`}})).status, 200);
        } finally {
            await dashboard.stop();
        }
        assert.deepEqual(records(dashboard.stderr).filter((record) => record["level"] === 40).map((record) => record["secretOnCommandLine"]), ["--token"]);

        const dir = await tempDir("orchard-token-");
        t.after(() => rm(dir, {recursive: true, force: true}));
        const missing = join(dir, "absent");
        const refused = await runOrchard(["dashboard", "--port", "0", "--redis", redis.url, "--token-file", missing]);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, new RegExp(`--token-file ${missing}: no such file`));
        assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
    });
});
