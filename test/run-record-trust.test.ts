import assert from "node:assert/strict";
import {createHash} from "node:crypto";
import {link, mkdir, readFile, rm, stat, symlink, writeFile} from "node:fs/promises";
import {basename, join} from "node:path";
import {after, before, describe, it} from "node:test";
import {DashboardServer} from "@orchard/coordinator";
import {FleetKeys, type RunSpec} from "@orchard/shared";
import {startFleetWorker, type FleetWorker} from "@orchard/worker";
import {Redis} from "ioredis";
import {runOrchard, tempDir, tinyModel, writeJsonl, type CliResult} from "./support/orchard-cli.ts";
import {OrchardProcess} from "./support/orchard-process.ts";
import {faultEngineFactory} from "./support/fault-engine.ts";
import {TestRedisServer} from "./support/redis-server.ts";

// Redis is writable by every worker: a run's record there must never make a coordinator write a
// file it did not derive itself (issue 8, item 1), nor may an output be a link to an input (item 2).
const TOKENS_PER_SECOND = 100_000;
const PRECIOUS = "precious data that no run may touch\n";

let redis: TestRedisServer;
let client: Redis;
let model: string;
let root: string;
let prefixes = 0;

function startWorker(keyPrefix: string, poisonIds: string[] = []): Promise<FleetWorker> {
    return startFleetWorker({
        modelPath: model, redisUrl: redis.url, keyPrefix, simulatedEngine: {tokensPerSecond: TOKENS_PER_SECOND}, engine: {contextSize: 1024},
        createEngine: faultEngineFactory({poisonIds})
    });
}

function runArgs(input: string, outputDir: string, keyPrefix: string, stateDir: string, ...extra: string[]): string[] {
    return ["run", "--model", model, "--input", input, "--output-dir", outputDir, "--redis", redis.url, "--redis-prefix", keyPrefix, "--state-dir", stateDir,
        "--shard-size", "2", "--shard-attempts", "1", "--context-size", "1024", "--simulate-tokens-per-second", String(TOKENS_PER_SECOND), "--log-format", "json", ...extra];
}

function assertRefused(result: CliResult, code: RegExp, what: string): void {
    assert.equal(result.code, 1, `${what}: expected exit 1, got ${result.code}\n${result.stderr}`);
    assert.match(result.stderr, code, what);
    assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/, `${what}: no stack trace`);
}

describe("a run's record in Redis is not trusted with file paths; outputs are never links to inputs", () => {
    before(async () => {
        redis = await TestRedisServer.start();
        client = new Redis(redis.url);
        model = await tinyModel();
        root = await tempDir("orchard-trust-");
    });
    after(async () => {
        client?.disconnect();
        await redis?.stop();
        await rm(root, {recursive: true, force: true});
    });

    it("resume, retry-failed, a re-run of the same command and the dashboard's retry refuse a tampered record (exit 1) and touch no file; a run is taken over only with --output-dir", async () => {
        const keyPrefix = `trust-${prefixes++}`;
        const dir = join(root, "tamper");
        const stateDir = join(dir, "state");
        const outputDir = join(dir, "out");
        for (const folder of ["elsewhere", "other"]) await mkdir(join(dir, folder), {recursive: true});
        const rows = (ids: string[]) => ids.map((id, i) => ({id, label: i % 2, document: `document ${id}`}));
        const failedInput = await writeJsonl(join(dir, "failed.jsonl"), rows(["a", "b", "c", "d"]));
        const pausedInput = await writeJsonl(join(dir, "paused.jsonl"), rows(["e", "f", "g", "h"]));
        // files a tampered record points at: any file, a file in another folder, another input of the same name
        const victims = new Map<string, string>();
        const victim = join(dir, "victim.txt");
        for (const path of [victim, ...["failed", "paused"].flatMap((name) => [join(dir, "elsewhere", `${name}.jsonl.attributes.jsonl`), join(dir, "other", `${name}.jsonl`)])]) {
            const text = path.endsWith(".jsonl") && path.includes("other") ? JSON.stringify({id: "x", label: 1, document: "someone else's document"}) + "\n" : PRECIOUS;
            await writeFile(path, text);
            victims.set(path, text);
        }

        // run A, created by this machine, ends with a failed shard (document c is poisoned)
        const poisoned = await startWorker(keyPrefix, ["c"]);
        let first: CliResult;
        try {
            first = await runOrchard(runArgs(failedInput, outputDir, keyPrefix, stateDir));
        } finally {
            await poisoned.close();
        }
        assert.equal(first.code, 4, first.stderr);
        const failedRun = (/Run (\S+) \(new\)/.exec(first.stdout) as RegExpExecArray)[1] as string;
        assert.equal((await stat(join(stateDir, "runs", `${failedRun}.json`))).mode & 0o777, 0o600, "this machine's record of the run is private");
        assert.equal((await stat(join(stateDir, "runs"))).mode & 0o777, 0o700);
        // run B, interrupted (Ctrl-C) before any shard was merged: resuming it opens its output
        const paused = OrchardProcess.start(runArgs(pausedInput, outputDir, keyPrefix, stateDir));
        const [, pausedRun] = await paused.waitFor(/Run (\S+) \(new\)/) as [string, string];
        paused.kill("SIGINT");
        assert.equal((await paused.exited).code, 130);
        const outputs = new Map<string, string>();
        for (const name of ["failed", "paused"]) outputs.set(name, await readFile(join(outputDir, `${name}.jsonl.attributes.jsonl`), "utf8").catch(() => ""));
        assert.equal(outputs.get("failed")?.split("\n").length, 3, "run A: shard 0 merged, shard 1 failed");

        const keys = new FleetKeys(keyPrefix);
        const originals = new Map<string, string>();
        for (const runId of [failedRun, pausedRun]) originals.set(runId, await client.hget(keys.run(runId), "spec") as string);
        const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
        const variants: Record<string, (spec: RunSpec) => RunSpec> = {
            "an output that is any file": (spec) => ({...spec, inputs: spec.inputs.map((input) => ({...input, output: victim}))}),
            "another output folder, with outputs derived from it": (spec) => ({
                ...spec, outputDir: join(dir, "elsewhere"), inputs: spec.inputs.map((input) => ({...input, output: join(dir, "elsewhere", basename(input.output))}))
            }),
            "another input file (same name, its own hash and size)": (spec) => ({
                ...spec, inputs: spec.inputs.map((input) => {
                    const path = join(dir, "other", basename(input.path));
                    const text = victims.get(path) as string;
                    return {...input, path, sha256: sha256(text), sizeBytes: Buffer.byteLength(text), documents: 1, shards: 1};
                })
            })
        };
        // a healthy worker: a coordinator that was not refused would go on with the run (and write)
        const healthy = await startWorker(keyPrefix);
        try {
            await using dashboard = await DashboardServer.start({redisUrl: redis.url, keyPrefix, port: 0, stateDir});
            const connection = ["--redis", redis.url, "--redis-prefix", keyPrefix, "--state-dir", stateDir, "--log-format", "json"];
            for (const [label, tamper] of Object.entries(variants)) {
                for (const [runId, original] of originals) await client.hset(keys.run(runId), "spec", JSON.stringify(tamper(JSON.parse(original) as RunSpec)));
                assertRefused(await runOrchard(["resume", pausedRun, ...connection]), /RUN_RECORD_MISMATCH/, `resume, ${label}`);
                assertRefused(await runOrchard(["retry-failed", failedRun, ...connection]), /RUN_RECORD_MISMATCH/, `retry-failed, ${label}`);
                for (const input of [failedInput, pausedInput])
                    assertRefused(await runOrchard(runArgs(input, outputDir, keyPrefix, stateDir)), /RUN_RECORD_MISMATCH/, `the same run command again, ${label}`);
                const response = await fetch(`${dashboard.url}/api/runs/${failedRun}/shards/1/retry`, {method: "POST", headers: {"x-orchard-action": "1"}});
                assert.equal(response.status, 409, `dashboard retry, ${label}: ${await response.clone().text()}`);
                assert.equal(((await response.json()) as {error: {code: string}}).error.code, "RUN_RECORD_MISMATCH");
                for (const [path, text] of victims) assert.equal(await readFile(path, "utf8"), text, `${label}: ${path} is intact`);
                for (const [name, text] of outputs)
                    assert.equal(await readFile(join(outputDir, `${name}.jsonl.attributes.jsonl`), "utf8").catch(() => ""), text, `${label}: the run's own output is unchanged`);
                assert.deepEqual(await client.hkeys(keys.failed(failedRun)), ["1"], `${label}: the failed shard is still failed, not queued for a retry`);
            }
            await client.hset(keys.run(pausedRun), "spec", JSON.stringify({...JSON.parse(originals.get(pausedRun) as string) as RunSpec, inputs: [{output: 1}]}));
            // a record that fails its schema is RECORD_INVALID (exit 2, as orchard status reports it), still one line and no file touched
            const unparsed = await runOrchard(["resume", pausedRun, ...connection]);
            assert.equal(unparsed.code, 2, unparsed.stderr);
            assert.match(unparsed.stderr, /spec in Redis is invalid: inputs\.0\..*\[RECORD_INVALID\]/);
            assert.doesNotMatch(unparsed.stderr, /\n\s+at .+:\d+:\d+/, "no stack trace");
            for (const [runId, original] of originals) await client.hset(keys.run(runId), "spec", original);

            // another state dir (another machine): no record, so only an explicit take-over, with the right folder
            const otherState = ["--redis", redis.url, "--redis-prefix", keyPrefix, "--state-dir", join(dir, "other-state"), "--log-format", "json"];
            assertRefused(await runOrchard(["resume", pausedRun, ...otherState]), /has no record on this machine.*--output-dir DIR.*RUN_RECORD_MISMATCH/, "resume without a record");
            assertRefused(await runOrchard(["retry-failed", failedRun, ...otherState, "--output-dir", join(dir, "elsewhere")]), /outputDir.*RUN_RECORD_MISMATCH/, "take-over with another folder");
            for (const [path, text] of victims) assert.equal(await readFile(path, "utf8"), text, `${path} is intact`);
            const taken = await runOrchard(["retry-failed", failedRun, ...otherState, "--output-dir", outputDir]);
            assert.equal(taken.code, 0, taken.stderr);
            assert.equal((await stat(join(dir, "other-state", "runs", `${failedRun}.json`))).mode & 0o777, 0o600, "the take-over is recorded");
            const resumed = await runOrchard(["resume", pausedRun, ...connection]);
            assert.equal(resumed.code, 0, resumed.stderr);
        } finally {
            await healthy.close();
        }
        for (const [name, ids] of [["failed", ["a", "b", "c", "d"]], ["paused", ["e", "f", "g", "h"]]] as const)
            assert.deepEqual((await readFile(join(outputDir, `${name}.jsonl.attributes.jsonl`), "utf8")).trim().split("\n").map((line) => (JSON.parse(line) as {id: string}).id), ids);
    });

    it("orchard run refuses an output folder where an output is a symbolic or hard link to an input, with or without --overwrite, and leaves the input intact", async () => {
        const keyPrefix = `trust-${prefixes++}`;
        const dir = join(root, "links");
        await mkdir(dir);
        const input = await writeJsonl(join(dir, "data.jsonl"), [{id: "a", label: 1, document: "keep me"}, {id: "b", label: 0, document: "and me"}]);
        const original = await readFile(input, "utf8");
        await mkdir(join(dir, "soft"));
        await mkdir(join(dir, "hard"));
        await symlink(input, join(dir, "soft", "data.jsonl.attributes.jsonl"));
        await link(input, join(dir, "hard", "data.jsonl.attributes.jsonl"));
        // a worker, so that a run that was not refused would go on (and end) instead of waiting
        const worker = await startWorker(keyPrefix);
        try {
            for (const folder of ["soft", "hard"])
                for (const extra of [["--overwrite"], []]) {
                    const result = await runOrchard(runArgs(input, join(dir, folder), keyPrefix, join(dir, "state"), ...extra));
                    assertRefused(result, /data\.jsonl\.attributes\.jsonl is the input .*data\.jsonl \(or a link to it\).*\[INVALID_ARGUMENT\]/, `${folder} ${extra.join(" ")}`);
                    assert.equal(await readFile(input, "utf8"), original, `${folder} ${extra.join(" ")}: the input is intact`);
                }
        } finally {
            await worker.close();
        }
    });
});
