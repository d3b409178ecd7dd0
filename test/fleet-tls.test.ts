import assert from "node:assert/strict";
import {execFile} from "node:child_process";
import {readFile} from "node:fs/promises";
import {join} from "node:path";
import {promisify} from "node:util";
import {after, before, describe, it} from "node:test";
import {runOrchard, sampleInput, tempDir, tinyModel} from "./support/orchard-cli.ts";
import {TestRedisServer} from "./support/redis-server.ts";

/**
 * `rediss://`: a fleet's shared Redis across networks speaks TLS. A real redis-server with TLS only
 * (a self-signed certificate made here with openssl), the coordinator and a local worker as child
 * processes that trust it through NODE_EXTRA_CA_CERTS, as a user would set it up.
 */
describe("orchard run over TLS (rediss://)", () => {
    let redis: TestRedisServer;
    let certFile: string;
    let model: string;

    before(async () => {
        const dir = await tempDir("orchard-tls-");
        certFile = join(dir, "redis.crt");
        const keyFile = join(dir, "redis.key");
        await promisify(execFile)("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]);
        redis = await TestRedisServer.start({password: "tls-pass", tls: {certFile, keyFile}});
        model = await tinyModel();
    });
    after(async () => {
        await redis?.stop();
    });

    const runArgs = (outputDir: string) => ["run", "--model", model, "--input", sampleInput, "--output-dir", outputDir, "--redis", redis.url,
        "--redis-prefix", "tls", "--local-workers", "1", "--simulate-tokens-per-second", "100000", "--context-size", "1024", "--log-format", "json"];

    it("a run with a local worker completes through a TLS-only Redis whose certificate the processes trust", async () => {
        assert.match(redis.url, /^rediss:\/\/:tls-pass@127\.0\.0\.1:\d+$/);
        const outputDir = await tempDir("orchard-tls-out-");
        const result = await runOrchard(runArgs(outputDir), {env: {NODE_EXTRA_CA_CERTS: certFile}});
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /Documents: 40 merged of 40/);
        const lines = (await readFile(join(outputDir, "sentiment.jsonl.attributes.jsonl"), "utf8")).trim().split("\n");
        assert.equal(lines.length, 40);
        // the run's records went through the TLS server
        assert.match(await redis.command("KEYS", "tls:run:*"), /tls:run:/);
    });

    it("an untrusted certificate is refused at once with what to do, not retried for 15 s nor reported with a stack trace", async () => {
        const outputDir = await tempDir("orchard-tls-out-");
        const started = performance.now();
        const result = await runOrchard(runArgs(outputDir), {env: {NODE_EXTRA_CA_CERTS: ""}});
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, /cannot reach Redis at rediss:\/\/:\*+@127\.0\.0\.1:\d+: .*TLS certificate is not trusted \([A-Z_]+\): .*NODE_EXTRA_CA_CERTS/);
        assert.doesNotMatch(result.stderr, /\n\s+at /);
        assert.ok(performance.now() - started < 12_000, "refused without waiting for the connect timeout");
    });
});
