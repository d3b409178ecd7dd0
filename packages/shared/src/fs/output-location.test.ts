import assert from "node:assert/strict";
import {mkdir, mkdtemp, rm, stat, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {OrchardError} from "../errors/orchard-error.ts";
import {assertOutputPath, ensureOutputDirectory, outputPathError} from "./output-location.ts";

let dir: string;
let file: string;

function isNotWritable(errno: string, path: string) {
    return (error: unknown) => error instanceof OrchardError && error.code === "OUTPUT_NOT_WRITABLE" && error.details["errno"] === errno &&
        error.details["path"] === path && error.message.startsWith(`--flag ${path}: `) && !error.message.includes("\n");
}

describe("output locations", () => {
    before(async () => {
        dir = await mkdtemp(join(tmpdir(), "orchard-output-location-"));
        file = join(dir, "a-file");
        await writeFile(file, "x");
        await mkdir(join(dir, "a-folder"));
    });
    after(async () => {
        await rm(dir, {recursive: true, force: true});
    });

    it("ensureOutputDirectory creates missing folders, and refuses a file or a path under one", async () => {
        await ensureOutputDirectory(join(dir, "new", "nested"), "--flag");
        assert.ok((await stat(join(dir, "new", "nested"))).isDirectory());
        await ensureOutputDirectory(join(dir, "a-folder"), "--flag");
        await assert.rejects(ensureOutputDirectory(file, "--flag"), isNotWritable("EEXIST", file));
        await assert.rejects(ensureOutputDirectory(join(file, "below"), "--flag"), isNotWritable("ENOTDIR", join(file, "below")));
    });

    it("assertOutputPath accepts what does not exist yet and refuses the wrong kind, creating nothing", async () => {
        await assertOutputPath(join(dir, "absent", "out.jsonl"), "file", "--flag");
        await assertOutputPath(join(dir, "absent"), "folder", "--flag");
        await assert.rejects(stat(join(dir, "absent")));
        await assertOutputPath(file, "file", "--flag");
        await assertOutputPath(join(dir, "a-folder"), "folder", "--flag");
        await assert.rejects(assertOutputPath(join(dir, "a-folder"), "file", "--flag"), isNotWritable("EISDIR", join(dir, "a-folder")));
        await assert.rejects(assertOutputPath(file, "folder", "--flag"), isNotWritable("EEXIST", file));
        await assert.rejects(assertOutputPath(join(file, "out.jsonl"), "file", "--flag"), isNotWritable("ENOTDIR", join(file, "out.jsonl")));
    });

    it("outputPathError leaves errors that are not about the path alone", () => {
        const other = Object.assign(new Error("disk on fire"), {code: "EIO"});
        assert.equal(outputPathError(other, "/x", "--flag"), other);
        assert.equal(outputPathError(new TypeError("bug"), "/x", "--flag") instanceof TypeError, true);
    });
});
