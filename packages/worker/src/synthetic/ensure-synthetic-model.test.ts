import assert from "node:assert/strict";
import {mkdtemp, readdir, readFile, rm, stat, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {writeGguf} from "@orchard/shared";
import {ensureSyntheticModel, syntheticModelFileName} from "./ensure-synthetic-model.ts";
import {planSyntheticModel} from "./synthesize-model.ts";

describe("ensureSyntheticModel", () => {
    let dir = "";
    before(async () => { dir = await mkdtemp(join(tmpdir(), "orchard-ensure-")); });
    after(async () => { await rm(dir, {recursive: true, force: true}); });

    it("synthesizes <preset>-<type>-seed<seed>.gguf once, sharing concurrent calls", async () => {
        const options = {preset: "tiny", type: "f16", seed: 4, dir: join(dir, "cache")} as const;
        const [a, b] = await Promise.all([ensureSyntheticModel(options), ensureSyntheticModel(options)]);
        assert.equal(a, join(dir, "cache", "tiny-f16-seed4.gguf"));
        assert.equal(b, a);
        assert.deepEqual(await readdir(join(dir, "cache")), ["tiny-f16-seed4.gguf"]);
        const written = await stat(a);
        assert.equal(await ensureSyntheticModel(options), a);
        assert.equal((await stat(a)).mtimeMs, written.mtimeMs, "an existing model is not rewritten");
    });

    it("keeps a cached model of the current format and replaces one of an older format or no GGUF at all", async () => {
        const options = {preset: "tiny", type: "q8_0", seed: 9, dir} as const;
        const path = join(dir, syntheticModelFileName("tiny", "q8_0", 9));
        await writeFile(path, "placeholder");
        assert.equal(await ensureSyntheticModel(options), path);
        const current = await readFile(path);
        assert.equal(current.subarray(0, 4).toString("latin1"), "GGUF", "a file that is no GGUF is synthesized again");
        const written = (await stat(path)).mtimeMs;
        assert.equal(await ensureSyntheticModel(options), path);
        assert.equal((await stat(path)).mtimeMs, written, "a current model is not rewritten");

        // the same model as synthesis wrote it before models carried a chat template (format 1: no format key)
        const plan = await planSyntheticModel(options);
        const metadata = new Map(plan.metadata);
        metadata.delete("tokenizer.chat_template");
        metadata.delete("orchard.synthetic.format");
        await writeGguf(path, {metadata, tensors: plan.tensors});
        assert.equal(await ensureSyntheticModel(options), path);
        assert.deepEqual(await readFile(path), current, "a cached format-1 model is replaced by the current bytes");
    });

    it("rejects combinations synthesis would reject, even when the file exists", async () => {
        await writeFile(join(dir, syntheticModelFileName("mixtral-8x7b", "f16", 1)), "");
        await assert.rejects(ensureSyntheticModel({preset: "mixtral-8x7b", type: "f16", seed: 1, dir}), {code: "INVALID_ARGUMENT"});
        await assert.rejects(ensureSyntheticModel({preset: "tiny", type: "f32", seed: 0.5, dir}), {code: "INVALID_ARGUMENT"});
    });
});
