import assert from "node:assert/strict";
import {mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, describe, it} from "node:test";
import {readJsonlLines} from "./jsonl-line-reader.ts";
import {LineAtReader} from "./line-at-reader.ts";

const dirs: string[] = [];
after(async () => { await Promise.all(dirs.map((dir) => rm(dir, {recursive: true, force: true}))); });

async function fileOf(content: string | Buffer): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "orchard-line-at-"));
    dirs.push(dir);
    const file = join(dir, "x.jsonl");
    await writeFile(file, content);
    return file;
}

describe("LineAtReader", () => {
    it("reads back every line readJsonlLines gives, at its byte offset", async () => {
        const long = "ü".repeat(100_000); // 200 KB: longer than one read
        const file = await fileOf(`{"a":1}\r\né\n\n${long}\nlast`);
        using reader = new LineAtReader(file);
        const lines = [];
        for await (const line of readJsonlLines(file)) lines.push(line);
        assert.equal(lines.length, 5);
        for (const line of lines.reverse()) assert.equal(reader.read(line.byteOffset), line.text);
        reader.close();
        reader.close();
        assert.equal(reader.read(0), "{\"a\":1}"); // reopens
    });
    it("reads back no line that readJsonlLines would refuse: over the limit, or not UTF-8", async () => {
        const file = await fileOf(Buffer.concat([Buffer.from(`${"x".repeat(100_000)}\nab`), Buffer.from([0xff]), Buffer.from("\nok\n")]));
        using reader = new LineAtReader(file, 99_999);
        assert.equal(reader.read(0), undefined);
        assert.equal(reader.read(100_001), undefined);
        assert.equal(reader.read(100_005), "ok");
        using roomy = new LineAtReader(file, 100_000);
        assert.equal(roomy.read(0)?.length, 100_000);
    });
});
