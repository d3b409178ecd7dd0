import assert from "node:assert/strict";
import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, describe, it} from "node:test";
import {OrchardError} from "@orchard/shared";
import {findResumePoint} from "./output-resume.ts";

const dirs: string[] = [];
after(async () => { await Promise.all(dirs.map((dir) => rm(dir, {recursive: true, force: true}))); });

// what an input of documents "é0", "é1", ... gives: the line is its id and attributes only
const lineOf = (index: number, attributes: readonly number[] = [0.5]) => JSON.stringify({id: `é${index}`, attributes});
const expected = async (index: number, written: Readonly<Record<string, unknown>>) =>
    (index < 3 ? {id: `é${index}`, line: lineOf(index, Array.isArray(written["attributes"]) ? written["attributes"] as number[] : [])} : undefined);

async function outputOf(content: Buffer): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "orchard-resume-"));
    dirs.push(dir);
    const file = join(dir, "out.jsonl");
    await writeFile(file, content);
    return file;
}

const resume = (file: string, maxLineBytes = 1000) => findResumePoint(file, expected, {outputFile: "out.jsonl", inputFile: "in.jsonl"}, maxLineBytes);

describe("findResumePoint", () => {
    it("cuts a torn last line that ends inside a multi-byte character", async () => {
        const whole = Buffer.from(`${lineOf(0)}\n${lineOf(1)}\n`);
        // the third line, cut by a crash after the first of the two bytes of its "é"
        const cut = Buffer.concat([Buffer.from("{\"id\":\""), Buffer.from("é").subarray(0, 1)]);
        const file = await outputOf(Buffer.concat([whole, cut]));
        assert.deepEqual(await resume(file), {completeLines: 2, repairedBytes: cut.length});
        assert.ok((await readFile(file)).equals(whole));
    });

    it("refuses an output with a complete line that is not UTF-8 or is over the limit (OUTPUT_MISMATCH naming the line)", async () => {
        const bad = Buffer.concat([Buffer.from(`${lineOf(0)}\n{"id":"`), Buffer.from([0xff]), Buffer.from(`"}\n${lineOf(2)}\n`)]);
        await assert.rejects(resume(await outputOf(bad)),
            (error: unknown) => error instanceof OrchardError && error.code === "OUTPUT_MISMATCH" && /^out\.jsonl:2: .*not valid UTF-8 at byte 7 of the line/.test(error.message));
        const long = Buffer.from(`${lineOf(0)}\n${"x".repeat(1001)}\n${lineOf(2)}\n`);
        const original = Buffer.from(long);
        const file = await outputOf(long);
        await assert.rejects(resume(file),
            (error: unknown) => error instanceof OrchardError && error.code === "OUTPUT_MISMATCH" && /^out\.jsonl:2: .*line is 1001 bytes, the limit is 1000/.test(error.message));
        assert.ok((await readFile(file)).equals(original), "a refused output is left as it was");
    });
});
