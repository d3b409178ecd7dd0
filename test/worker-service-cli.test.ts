import assert from "node:assert/strict";
import {writeFile} from "node:fs/promises";
import {join} from "node:path";
import {describe, it} from "node:test";
import {parse} from "plist";
import {ORCHARD_NODE_FLAGS} from "../scripts/orchard-node-flags.ts";
import {orchardBin, removeTempDir, repoRoot, runOrchard, tempDir, tinyModel} from "./support/orchard-cli.ts";
import {OrchardProcess} from "./support/orchard-process.ts";
import {TestRedisServer} from "./support/redis-server.ts";

const URL_WITH_PASSWORD = "redis://:pa55word-not-in-files@coordinator.local:6379";

describe("orchard worker install-service --dry-run: the plist / unit for the flags given, never the password", () => {
    it("--platform macos prints a plist that parses, running node + flags + the CLI + the given worker flags + --redis-url-file", async (t) => {
        const dir = await tempDir("orchard-service-");
        t.after(() => removeTempDir(dir));
        const model = join(dir, "model.gguf");
        await writeFile(model, "");
        const result = await runOrchard(["worker", "install-service", "--dry-run", "--platform", "macos", "--model", model, "--contexts", "3", "--shutdown-timeout-ms", "90000", "--shutdown-grace-ms", "60000",
            "--schedule", "mon-fri 19:00-08:00", "--when-idle", "10m", "--require-ac", "--unload-when-paused"],
            {env: {ORCHARD_REDIS_URL: URL_WITH_PASSWORD, HOME: dir}});
        assert.equal(result.code, 0, result.stderr);
        const plist = parse(result.stdout) as Record<string, unknown>;
        const urlFile = join(dir, "Library", "Application Support", "Orchard", "com.orchard.worker.redis-url");
        assert.deepEqual(plist["ProgramArguments"], [
            process.execPath, ...ORCHARD_NODE_FLAGS, orchardBin, "worker", "--model", model, "--contexts", "3", "--shutdown-timeout-ms", "90000", "--shutdown-grace-ms", "60000",
            "--schedule", "mon-fri 19:00-08:00", "--when-idle", "10m", "--require-ac", "--unload-when-paused",
            "--redis-url-file", urlFile, "--log-format", "json"
        ]);
        // SIGTERM grace beyond the worker's own shutdown timeout and grace (90 s + 60 s + 30 s of closing)
        assert.equal(plist["ExitTimeOut"], 180);
        assert.doesNotMatch(result.stdout + result.stderr, /pa55word/);
        assert.match(result.stderr, new RegExp(`launchctl bootstrap gui/\\d+ ${join(dir, "Library", "LaunchAgents", "com.orchard.worker.plist")}`));
    });

    it("--platform linux prints a unit; mistakes are one-line errors with exit 1", async (t) => {
        const dir = await tempDir("orchard-service-");
        t.after(() => removeTempDir(dir));
        const model = join(dir, "model.gguf");
        await writeFile(model, "");
        const unit = await runOrchard(["worker", "install-service", "--dry-run", "--platform", "linux", "--model", model, "--redis", URL_WITH_PASSWORD], {env: {HOME: dir}});
        assert.equal(unit.code, 0, unit.stderr);
        assert.match(unit.stdout, /^ExecStart=".*" "worker" "--model" ".*model\.gguf" "--redis-url-file" ".*orchard-worker\.redis-url" "--log-format" "json"$/m);
        assert.doesNotMatch(unit.stdout + unit.stderr, /pa55word/);

        // --model-cache instead of --model: passed on as an absolute folder (the service runs elsewhere)
        const cached = await runOrchard(["worker", "install-service", "--dry-run", "--platform", "linux", "--model-cache", "orchard-models", "--when-idle", "10m", "--redis", URL_WITH_PASSWORD], {env: {HOME: dir}});
        assert.equal(cached.code, 0, cached.stderr);
        assert.ok(cached.stdout.includes(`"worker" "--model-cache" "${join(repoRoot, "orchard-models")}" "--when-idle" "10m" "--redis-url-file" `), cached.stdout);
        const noModel = await runOrchard(["worker", "install-service", "--dry-run", "--platform", "linux", "--redis", URL_WITH_PASSWORD], {env: {HOME: dir}});
        assert.equal(noModel.code, 1);
        assert.match(noModel.stderr, /--model FILE, or --model-cache DIR.*\[INVALID_ARGUMENT\]\n$/);

        const missingModel = await runOrchard(["worker", "install-service", "--dry-run", "--platform", "linux", "--model", join(dir, "absent.gguf"), "--redis", URL_WITH_PASSWORD]);
        assert.equal(missingModel.code, 1);
        assert.match(missingModel.stderr, /absent\.gguf: no such file \[MODEL_NOT_FOUND\]\n$/);
        const noRedis = await runOrchard(["worker", "install-service", "--dry-run", "--platform", "linux", "--model", model], {env: {ORCHARD_REDIS_URL: ""}});
        assert.equal(noRedis.code, 1);
        assert.match(noRedis.stderr, /ORCHARD_REDIS_URL.*\[INVALID_ARGUMENT\]\n$/);
        // a policy the worker would refuse is refused now, not in a service that restarts every 30 s
        const badPolicy = await runOrchard(["worker", "install-service", "--dry-run", "--platform", "linux", "--model", model, "--redis", URL_WITH_PASSWORD, "--when-idle", "soon"]);
        assert.equal(badPolicy.code, 1);
        assert.match(badPolicy.stderr, /--when-idle soon: expected a duration/);
        const badUrl = await runOrchard(["worker", "install-service", "--dry-run", "--platform", "linux", "--model", model, "--redis", "http://host:6379"]);
        assert.equal(badUrl.code, 1);
        assert.match(badUrl.stderr, /--redis: a http:\/\/ URL/);
        // installing another platform's service for real is refused (nothing written)
        const otherPlatform = await runOrchard(["worker", "install-service", "--platform", process.platform === "darwin" ? "linux" : "macos", "--model", model, "--redis", URL_WITH_PASSWORD], {env: {HOME: dir}});
        assert.equal(otherPlatform.code, 1);
        assert.match(otherPlatform.stderr, /--dry-run/);
    });
});

describe("orchard worker --redis-url-file", () => {
    it("joins the Redis named in the file; a missing file is a one-line error naming it", async (t) => {
        await using redis = await TestRedisServer.start();
        const dir = await tempDir("orchard-service-");
        t.after(() => removeTempDir(dir));
        const urlFile = join(dir, "redis-url");
        await writeFile(urlFile, `${redis.url}\n`, {mode: 0o600});
        const model = await tinyModel();
        const worker = OrchardProcess.start(["worker", "--model", model, "--redis-url-file", urlFile, "--redis-prefix", "urlfile", "--simulate-tokens-per-second", "1000", "--log-format", "json"]);
        try {
            const [line] = await worker.waitFor(/\{[^\n]*"redis":"[^\n]*"queue"[^\n]*\}/);
            assert.equal((JSON.parse(line) as {redis: string}).redis, redis.url.replace(/:[^:@/]*@/, ":***@"));
        } finally {
            worker.child.kill("SIGTERM");
            await worker.exited;
        }
        const missing = await runOrchard(["worker", "--model", model, "--redis-url-file", join(dir, "absent")]);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /--redis-url-file .*absent: no such file \[INVALID_ARGUMENT\]\n$/);
        const both = await runOrchard(["worker", "--model", model, "--redis-url-file", urlFile, "--redis", redis.url]);
        assert.equal(both.code, 1);
    });
});
