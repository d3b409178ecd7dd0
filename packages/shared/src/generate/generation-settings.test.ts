import assert from "node:assert/strict";
import {createHash} from "node:crypto";
import {describe, it} from "node:test";
import {OrchardError} from "../errors/orchard-error.ts";
import {DEFAULT_GENERATION_SAMPLING, documentSeed, resolveGenerationSampling} from "./generation-settings.ts";

describe("documentSeed", () => {
    it("is the first 4 bytes of sha256(seed, id): a function of the run seed and the id alone", () => {
        assert.equal(documentSeed(7, "r1"), createHash("sha256").update("7\nr1").digest().readUInt32BE(0));
        assert.equal(documentSeed(7, "r1"), documentSeed(7, "r1"));
        assert.notEqual(documentSeed(7, "r1"), documentSeed(7, "r2"));
        assert.notEqual(documentSeed(7, "r1"), documentSeed(8, "r1"));
        // "1" + "2\n3" and "12" + "3" must not collide: the separator cannot occur in a seed
        assert.notEqual(documentSeed(1, "2\n3"), documentSeed(12, "3"));
    });
});

describe("resolveGenerationSampling", () => {
    it("fills llama.cpp's defaults and keeps given values", () => {
        assert.deepEqual(resolveGenerationSampling({}), DEFAULT_GENERATION_SAMPLING);
        assert.equal(resolveGenerationSampling({temperature: 0, seed: 3}).temperature, 0);
    });

    it("refuses values the sampler would misread, naming the flag", () => {
        for (const [options, flag] of [
            [{maxTokens: 0}, "--max-tokens"], [{topP: 0}, "--top-p"], [{topK: 1.5}, "--top-k"], [{minP: 2}, "--min-p"],
            [{temperature: -1}, "--temperature"], [{repetitionPenalty: 0}, "--repetition-penalty"], [{seed: -1}, "--seed"], [{frequencyPenalty: Number.NaN}, "--frequency-penalty"]
        ] as const) {
            assert.throws(() => resolveGenerationSampling(options), (error: unknown) => error instanceof OrchardError && error.code === "INVALID_ARGUMENT" && error.message.startsWith(flag));
        }
    });
});
