import assert from "node:assert/strict";
import {createReadStream} from "node:fs";
import {readFile, stat} from "node:fs/promises";
import {createServer} from "node:http";
import {join} from "node:path";
import {describe, it} from "node:test";
import {modelFingerprint} from "@orchard/shared";
import {removeTempDir, runOrchard, tempDir, tinyModel} from "./support/orchard-cli.ts";

/** Serves `file` at /tiny.gguf with HEAD and byte ranges, as a model host does. */
async function modelServer(file: string) {
    const size = (await stat(file)).size;
    const server = createServer((request, response) => {
        if (request.url !== "/tiny.gguf") return void response.writeHead(404).end();
        const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.range ?? "");
        const start = range === null || range[1] === "" ? 0 : Number(range[1]);
        const end = range === null || range[2] === "" ? size - 1 : Number(range[2]);
        response.writeHead(range === null ? 200 : 206, {
            "content-length": end - start + 1, "accept-ranges": "bytes", "content-type": "application/octet-stream",
            ...(range === null ? {} : {"content-range": `bytes ${start}-${end}/${size}`})
        });
        if (request.method === "HEAD") return void response.end();
        createReadStream(file, {start, end}).pipe(response);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as {port: number}).port}`,
        close: () => new Promise<void>((resolve) => server.close(() => resolve()))
    };
}

describe("orchard model pull", () => {
    it("downloads a GGUF over HTTP byte for byte, prints its fingerprint; a 404 is a one-line error", async (t) => {
        const model = await tinyModel();
        const server = await modelServer(model);
        t.after(() => server.close());
        const dir = await tempDir("orchard-pull-");
        t.after(() => removeTempDir(dir));

        const pulled = await runOrchard(["model", "pull", `${server.url}/tiny.gguf`, "--dir", dir]);
        assert.equal(pulled.code, 0, pulled.stderr);
        const path = join(dir, "tiny.gguf");
        assert.ok((await readFile(path)).equals(await readFile(model)), "the same bytes");
        assert.match(pulled.stdout, new RegExp(`^fingerprint: ${(await modelFingerprint(model)).fingerprint}$`, "m"));

        const missing = await runOrchard(["model", "pull", `${server.url}/absent.gguf`, "--dir", dir]);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /^orchard: cannot download http:\/\/127\.0\.0\.1:\d+\/absent\.gguf: .*404.*\[MODEL_NOT_FOUND\]\n$/);
    });
});
