import assert from "node:assert/strict";
import {copyFile, mkdtemp, open, writeFile, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {OrchardError} from "../errors/orchard-error.ts";
import {GgmlType} from "./gguf-types.ts";
import {ggufString, writeGguf} from "./gguf-writer.ts";
import {modelFingerprint, simulatedEngineFingerprint} from "./model-fingerprint.ts";

/** Temporary folders of this file's tests, removed when they are done. */
const tempDirs: string[] = [];
after(() => Promise.all(tempDirs.splice(0).map((dir) => rm(dir, {recursive: true, force: true}))));
async function tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    tempDirs.push(dir);
    return dir;
}

let dir: string;

/** A GGUF with one f32 tensor of `elements` values from `value(i)`. */
async function model(name: string, elements: number, value: (i: number) => number, title = "test model"): Promise<string> {
    const path = join(dir, name);
    await writeGguf(path, {
        metadata: new Map([["general.architecture", ggufString("llama")], ["general.name", ggufString(title)]]),
        tensors: [{name: "weights", shape: [elements], type: GgmlType.F32, generate: () => [Float32Array.from({length: elements}, (_, i) => value(i))]}]
    });
    return path;
}

describe("modelFingerprint", () => {
    before(async () => {
        dir = await tempDir("orchard-fingerprint-");
    });

    it("agrees for copies of a file and tells weights, metadata and sizes apart", async () => {
        const a = await model("a.gguf", 1000, (i) => i);
        const copy = join(dir, "copy.gguf");
        await copyFile(a, copy);
        const fa = await modelFingerprint(a);
        assert.equal((await modelFingerprint(copy)).fingerprint, fa.fingerprint);
        assert.match(fa.fingerprint, /^[0-9a-f]{64}$/);
        assert.equal(fa.name, "test model");
        assert.equal(fa.architecture, "llama");
        assert.notEqual((await modelFingerprint(await model("b.gguf", 1000, (i) => (i === 999 ? -1 : i)))).fingerprint, fa.fingerprint, "one different weight");
        assert.notEqual((await modelFingerprint(await model("c.gguf", 1000, (i) => i, "renamed"))).fingerprint, fa.fingerprint, "different metadata");
        assert.notEqual((await modelFingerprint(await model("d.gguf", 1001, (i) => i))).fingerprint, fa.fingerprint, "different size");
    });

    it("samples a large file: a change inside a sampled window or at either end changes it", async () => {
        const elements = 2_000_000; // 8 MB of data: past the ends and windows, so sampling is on
        const big = await model("big.gguf", elements, (i) => i % 251);
        const base = (await modelFingerprint(big)).fingerprint;
        const poke = async (offsetFromEnd: number) => {
            const path = join(dir, `poked-${offsetFromEnd}.gguf`);
            await copyFile(big, path);
            const handle = await open(path, "r+");
            const {size} = await handle.stat();
            await handle.write(Buffer.from([0xff]), 0, 1, size - offsetFromEnd);
            await handle.close();
            return (await modelFingerprint(path)).fingerprint;
        };
        assert.notEqual(await poke(1), base, "last byte");
        assert.notEqual(await poke(100_000), base, "inside the last MiB");
    });

    it("has its own namespace for the simulated engine", async () => {
        const real = await modelFingerprint(await model("e.gguf", 10, (i) => i));
        const simulated = simulatedEngineFingerprint(real);
        assert.match(simulated.fingerprint, /^sim-[0-9a-f]{64}$/);
        assert.notEqual(simulated.fingerprint.slice(4), real.fingerprint);
    });

    it("reports a missing or non-GGUF file like the GGUF reader", async () => {
        await assert.rejects(modelFingerprint(join(dir, "absent.gguf")), (error: unknown) => error instanceof OrchardError && error.code === "MODEL_NOT_FOUND");
        const text = join(dir, "text.gguf");
        await writeFile(text, "not a model at all");
        await assert.rejects(modelFingerprint(text), (error: unknown) => error instanceof OrchardError && error.code === "MODEL_INVALID");
    });
});
