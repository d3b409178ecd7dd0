import assert from "node:assert/strict";
import {mkdtemp, rm, stat} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import yargs from "yargs";
import {modelCommand} from "./model-command.ts";

/**
 * Runs `model ...` the way the root CLI does and returns the lines it printed. stdout is teed, not
 * swallowed: the test runner reports results over the same stream, so we only pick out our lines.
 */
async function run(args: string[], cwd: string): Promise<string> {
    let output = "";
    const write = process.stdout.write;
    const previousCwd = process.cwd();
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
        if (typeof chunk === "string") output += chunk;
        return write.call(process.stdout, chunk, ...rest);
    }) as typeof process.stdout.write;
    process.chdir(cwd);
    try {
        await yargs(args).command(modelCommand as never).strict().fail((message, error) => { throw error ?? new Error(message); }).parseAsync();
    } finally {
        process.stdout.write = write;
        process.chdir(previousCwd);
    }
    return output;
}

describe("model synthesize", () => {
    let dir = "";
    before(async () => { dir = await mkdtemp(join(tmpdir(), "orchard-model-command-")); });
    after(async () => { await rm(dir, {recursive: true, force: true}); });

    it("writes models/<preset>-<type>-seed<seed>.gguf by default and prints path and size", async () => {
        const output = await run(["model", "synthesize", "--seed", "7"], dir);
        const path = join(dir, "models", "tiny-f32-seed7.gguf");
        const {size} = await stat(path);
        assert.ok(output.includes(`${path} (${(size / 1e6).toFixed(1)} MB, ${size} bytes)\n`), output);
    });

    it("honours --preset, --type and --out", async () => {
        const out = join(dir, "custom", "m.gguf");
        const output = await run(["model", "synthesize", "--preset", "tiny", "--type", "q8_0", "--out", out], dir);
        assert.ok(output.includes(`${out} (`), output);
        assert.ok((await stat(out)).size < 10_000_000);
    });

    it("rejects unknown choices and impossible combinations", async () => {
        await assert.rejects(run(["model", "synthesize", "--type", "q4_0"], dir), /Invalid values/);
        await assert.rejects(run(["model", "synthesize", "--preset", "mixtral-8x7b", "--type", "f16"], dir), {code: "INVALID_ARGUMENT"});
        await assert.rejects(run(["model"], dir), /Not enough non-option arguments|command/);
    });
});
