import assert from "node:assert/strict";
import {createHash, randomBytes} from "node:crypto";
import {copyFile, readdir, readFile, writeFile} from "node:fs/promises";
import {createServer, type Server} from "node:http";
import type {AddressInfo} from "node:net";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {modelFingerprint, OrchardError, type ModelSource} from "@orchard/shared";
import {cachedModelPath, downloadModel} from "@orchard/worker";
import {tempDir, tinyModel} from "./support/orchard-cli.ts";

const TOKEN = randomBytes(32).toString("base64url");

/**
 * A stand-in for a model server that misbehaves on purpose: serves `bytes` with single open-ended
 * ranges, records every Range header it gets, and can cut its first answer after `cutAt` bytes of
 * the file (the connection closed mid-body, as a coordinator's Mac going to sleep would).
 */
async function flakyServer(bytes: Buffer, options: {cutAt?: number} = {}): Promise<{url: string; ranges: (string | undefined)[]; close: () => Promise<void>}> {
    const ranges: (string | undefined)[] = [];
    let cutAt = options.cutAt;
    const server: Server = createServer((request, response) => {
        ranges.push(request.headers.range);
        if (request.headers.authorization !== `Bearer ${TOKEN}`) {
            response.statusCode = 401;
            response.end();
            return;
        }
        const match = /^bytes=(\d+)-$/.exec(request.headers.range ?? "");
        const start = match === null ? 0 : Number(match[1]);
        response.statusCode = match === null ? 200 : 206;
        if (match !== null) response.setHeader("content-range", `bytes ${start}-${bytes.length - 1}/${bytes.length}`);
        response.setHeader("content-length", String(bytes.length - start));
        if (cutAt !== undefined) {
            const end = cutAt;
            cutAt = undefined;
            // a FIN, not a reset: the client gets every byte sent so far, then an early end
            response.write(bytes.subarray(start, end), () => response.socket?.end());
            return;
        }
        response.end(bytes.subarray(start));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/m.gguf`, ranges,
        close: () => new Promise((resolve) => server.close(() => resolve()))
    };
}

let model: Buffer;
let source: Omit<ModelSource, "url">;
const servers: {close: () => Promise<void>}[] = [];
after(() => Promise.all(servers.map((server) => server.close())));

before(async () => {
    const path = await tinyModel();
    model = await readFile(path);
    source = {
        v: 1, token: TOKEN, fingerprint: (await modelFingerprint(path)).fingerprint, sizeBytes: model.length,
        sha256: createHash("sha256").update(model).digest("hex"), servedBy: "test", startedAt: new Date().toISOString()
    };
});

async function serve(bytes: Buffer, options: {cutAt?: number} = {}) {
    const server = await flakyServer(bytes, options);
    servers.push(server);
    return server;
}

describe("downloadModel: resumable, verified, renamed into place", () => {
    it("a transfer cut short goes on from the .part file's offset with a Range request; the result is the model byte for byte", async () => {
        const server = await serve(model, {cutAt: 1_000_000});
        const dir = await tempDir();
        const path = await downloadModel({source: {...source, url: server.url}, dir, retryDelayMs: 1});
        assert.equal(path, cachedModelPath(dir, source.fingerprint));
        assert.deepEqual(server.ranges, [undefined, "bytes=1000000-"]);
        assert.ok((await readFile(path)).equals(model));
        assert.deepEqual(await readdir(dir), [`${source.fingerprint}.gguf`], "no .part left");
    });

    it("a .part left by a stopped worker is continued, not downloaded again", async () => {
        const server = await serve(model);
        const dir = await tempDir();
        await writeFile(`${cachedModelPath(dir, source.fingerprint)}.part`, model.subarray(0, 3_000_000));
        const path = await downloadModel({source: {...source, url: server.url}, dir});
        assert.deepEqual(server.ranges, ["bytes=3000000-"]);
        assert.ok((await readFile(path)).equals(model));
    });

    it("a file whose SHA-256 is not the recorded one is refused and deleted; so is one with the right digest but another fingerprint", async () => {
        const server = await serve(model);
        const dir = await tempDir();
        await assert.rejects(downloadModel({source: {...source, url: server.url, sha256: "0".repeat(64)}, dir}),
            (error: OrchardError) => error.code === "DOWNLOAD_FAILED" && /SHA-256/.test(error.message));
        assert.deepEqual(await readdir(dir), [], "neither the model nor its .part is left");
        // other weights, announced with their own digest under the run's fingerprint: the fingerprint check refuses them
        const other = Buffer.from(model);
        other[other.length - 10] = (other[other.length - 10] as number) ^ 0xff;
        const liar = await serve(other);
        await assert.rejects(downloadModel({source: {...source, url: liar.url, sha256: createHash("sha256").update(other).digest("hex")}, dir}),
            (error: OrchardError) => error.code === "DOWNLOAD_FAILED" && /fingerprint/.test(error.message));
        assert.deepEqual(await readdir(dir), []);
    });

    it("a disk without room for what is left is a DISK_FULL before any transfer; a wrong token is refused at once", async () => {
        const server = await serve(model);
        const dir = await tempDir();
        await assert.rejects(downloadModel({source: {...source, url: server.url}, dir, freeDiskBytes: async () => model.length - 1}),
            (error: OrchardError) => error.code === "DISK_FULL" && error.message.includes(dir));
        assert.deepEqual(server.ranges, [], "nothing requested");
        // room for what is left of a partial file is enough
        await copyFile(await tinyModel(), `${cachedModelPath(dir, source.fingerprint)}.part`);
        assert.ok((await readFile(await downloadModel({source: {...source, url: server.url}, dir, freeDiskBytes: async () => 0}))).equals(model));
        await assert.rejects(downloadModel({source: {...source, url: server.url, token: "x".repeat(43)}, dir: await tempDir(), retryDelayMs: 1}),
            (error: OrchardError) => error.code === "DOWNLOAD_FAILED" && /refused/.test(error.message));
        assert.equal(server.ranges.length, 1, "a refused token is not retried");
    });
});
