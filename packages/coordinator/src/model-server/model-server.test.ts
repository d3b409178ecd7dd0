import assert from "node:assert/strict";
import {createHash, randomBytes} from "node:crypto";
import {mkdtemp, rm, utimes, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, describe, it} from "node:test";
import {modelSha256} from "./model-digest.ts";
import {ModelServer} from "./model-server.ts";

const tempDirs: string[] = [];
after(() => Promise.all(tempDirs.splice(0).map((dir) => rm(dir, {recursive: true, force: true}))));
async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "orchard-model-server-"));
    tempDirs.push(dir);
    return dir;
}

const TOKEN = randomBytes(32).toString("base64url");
const URL_PATH = "/models/abc.gguf";

async function servedFile(bytes: Buffer) {
    const path = join(await tempDir(), "model.gguf");
    await writeFile(path, bytes);
    const server = await ModelServer.start({path, urlPath: URL_PATH, token: TOKEN, host: "127.0.0.1", port: 0});
    const url = `http://127.0.0.1:${server.port}${URL_PATH}`;
    const get = (headers: Record<string, string>, method = "GET", address = url) => fetch(address, {method, headers});
    return {server, url, get, auth: {authorization: `Bearer ${TOKEN}`}};
}

describe("ModelServer", () => {
    const bytes = randomBytes(100_000);

    it("serves the whole file and single byte ranges (206 with Content-Range) to a request with the token", async () => {
        const {server, get, auth} = await servedFile(bytes);
        await using _server = server;
        const whole = await get(auth);
        assert.equal(whole.status, 200);
        assert.equal(whole.headers.get("accept-ranges"), "bytes");
        assert.deepEqual(Buffer.from(await whole.arrayBuffer()), bytes);
        const middle = await get({...auth, range: "bytes=1000-1999"});
        assert.equal(middle.status, 206);
        assert.equal(middle.headers.get("content-range"), `bytes 1000-1999/${bytes.length}`);
        assert.deepEqual(Buffer.from(await middle.arrayBuffer()), bytes.subarray(1000, 2000));
        const rest = await get({...auth, range: "bytes=99990-"});
        assert.deepEqual(Buffer.from(await rest.arrayBuffer()), bytes.subarray(99_990));
        const head = await get(auth, "HEAD");
        assert.equal(head.status, 200);
        assert.equal(head.headers.get("content-length"), String(bytes.length));
    });

    it("answers 416 with the file's size to a range it cannot serve, 404 beside the model's path", async () => {
        const {server, url, get, auth} = await servedFile(bytes);
        await using _server = server;
        for (const range of [`bytes=${bytes.length}-`, "bytes=5-2", "bytes=0-9,20-29", "pages=1-2"]) {
            const response = await get({...auth, range});
            assert.equal(response.status, 416, range);
            assert.equal(response.headers.get("content-range"), `bytes */${bytes.length}`);
            await response.arrayBuffer();
        }
        const other = await get(auth, "GET", url.replace("abc.gguf", "other.gguf"));
        assert.equal(other.status, 404);
        await other.arrayBuffer();
    });

    it("refuses every request without the exact token (none, a prefix, one character off, longer), whatever the range", async () => {
        const {server, get} = await servedFile(bytes);
        await using _server = server;
        const last = TOKEN.at(-1) === "A" ? "B" : "A";
        for (const token of [undefined, TOKEN.slice(0, -1), `${TOKEN.slice(0, -1)}${last}`, `${TOKEN}x`, ""]) {
            const response = await get({...(token === undefined ? {} : {authorization: `Bearer ${token}`}), range: "bytes=0-9"});
            assert.equal(response.status, 401, `token ${token === undefined ? "absent" : `of ${token.length} characters`}`);
            const body = await response.text();
            assert.ok(!body.includes(bytes.subarray(0, 10).toString("latin1")), "no byte of the model without the token");
            assert.ok(!body.includes(TOKEN), "the refusal never echoes the token");
        }
    });

    it("stops serving on close", async () => {
        const {server, get, auth} = await servedFile(bytes);
        await server.close();
        await server.close();
        await assert.rejects(get(auth));
    });
});

describe("modelSha256", () => {
    it("hashes the whole file once and remembers it by path, size and mtime; a changed mtime or size is hashed again", async () => {
        const dir = await tempDir();
        const path = join(dir, "model.gguf");
        const stateDir = join(dir, "state");
        const first = randomBytes(50_000);
        await writeFile(path, first);
        // a whole second: utimes below can set exactly this time again (stat's mtime has sub-millisecond digits)
        const mtime = new Date(Math.floor(Date.now() / 1000) * 1000);
        await utimes(path, mtime, mtime);
        const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");
        assert.equal(await modelSha256(path, stateDir), sha(first));
        // same size and mtime, other content: the remembered digest is returned, so nothing was read
        const second = randomBytes(50_000);
        await writeFile(path, second);
        await utimes(path, mtime, mtime);
        assert.equal(await modelSha256(path, stateDir), sha(first));
        // a file replaced in place (another mtime) is hashed anew
        await utimes(path, mtime, new Date(mtime.getTime() + 5000));
        assert.equal(await modelSha256(path, stateDir), sha(second));
        const third = randomBytes(40_000);
        await writeFile(path, third);
        await utimes(path, mtime, new Date(mtime.getTime() + 5000));
        assert.equal(await modelSha256(path, stateDir), sha(third));
    });
});
