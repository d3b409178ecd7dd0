import assert from "node:assert/strict";
import {mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {OrchardError} from "../errors/orchard-error.ts";
import {readJsonSchemaFile} from "./json-schema-file.ts";

describe("readJsonSchemaFile", () => {
    let dir = "";
    before(async () => { dir = await mkdtemp(join(tmpdir(), "orchard-schema-")); });
    after(async () => { await rm(dir, {recursive: true, force: true}); });
    const write = async (name: string, text: string) => {
        const path = join(dir, name);
        await writeFile(path, text);
        return path;
    };
    const refused = (path: string, code: string, pattern: RegExp) => assert.rejects(readJsonSchemaFile(path),
        (error: unknown) => error instanceof OrchardError && error.code === code && error.message.startsWith(path) && pattern.test(error.message));

    it("reads a schema the grammar enforces, a property named like a keyword included", async () => {
        const schema = {type: "object", properties: {pattern: {enum: ["a", "b"]}, review: {type: "string", maxLength: 10}}};
        assert.deepEqual(await readJsonSchemaFile(await write("ok.json", JSON.stringify(schema))), schema);
    });

    it("refuses what it would only pretend to enforce, and what is no schema, naming the file", async () => {
        await refused(await write("pattern.json", JSON.stringify({type: "object", properties: {a: {type: "string", pattern: "x"}}})), "INVALID_ARGUMENT", /"pattern" at #\/properties\/a/);
        await refused(await write("anyof.json", JSON.stringify({anyOf: [{type: "string"}]})), "INVALID_ARGUMENT", /"anyOf" at #/);
        await refused(await write("max.json", JSON.stringify({type: "integer", maximum: 5})), "INVALID_ARGUMENT", /"maximum"/);
        await refused(await write("bad.json", "{nope"), "INVALID_ARGUMENT", /not valid JSON/);
        await refused(await write("array.json", "[]"), "INVALID_ARGUMENT", /must be a JSON object/);
        await refused(join(dir, "absent.json"), "INPUT_NOT_FOUND", /not found/);
    });
});
