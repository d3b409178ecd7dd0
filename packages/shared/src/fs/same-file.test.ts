import assert from "node:assert/strict";
import {link, mkdtemp, rm, symlink, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {describe, it} from "node:test";
import {isSameFile} from "./same-file.ts";

describe("isSameFile", () => {
    it("sees through symbolic links, hard links and dotted paths; tells other files and missing paths apart", async () => {
        const dir = await mkdtemp(join(tmpdir(), "orchard-same-file-"));
        try {
            const input = join(dir, "input.jsonl");
            await writeFile(input, "{}\n");
            await writeFile(join(dir, "other.jsonl"), "{}\n");
            await symlink(input, join(dir, "soft.jsonl"));
            await link(input, join(dir, "hard.jsonl"));
            await symlink(dir, join(dir, "folder-link"));
            assert.equal(await isSameFile(input, input), true);
            assert.equal(await isSameFile(join(dir, "soft.jsonl"), input), true, "a symbolic link to the input");
            assert.equal(await isSameFile(join(dir, "hard.jsonl"), input), true, "a hard link to the input");
            assert.equal(await isSameFile(join(dir, "folder-link", "input.jsonl"), input), true, "through a linked folder");
            assert.equal(await isSameFile(join(dir, "x", "..", "input.jsonl"), input), true);
            assert.equal(await isSameFile(join(dir, "other.jsonl"), input), false);
            assert.equal(await isSameFile(join(dir, "new.jsonl"), input), false, "a file not created yet");
            assert.equal(await isSameFile(join(dir, "folder-link", "new.jsonl"), input), false);
            assert.equal(await isSameFile(input, join(dir, "missing.jsonl")), false);
        } finally {
            await rm(dir, {recursive: true, force: true});
        }
    });
});
