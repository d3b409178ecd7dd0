import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {OrchardError} from "../errors/orchard-error.ts";
import {machineRefusal} from "./machine-facts.ts";
import {describeNumerics, numericsDifference, numericsExtractFlags, numericsSettingsSchema, resolveNumericsSettings, runNumericsOf} from "./numerics-settings.ts";

describe("a run's numerics", () => {
    it("default to extract's settings; auto pins one-pass; a batch larger than the context is the context", () => {
        assert.deepEqual(resolveNumericsSettings({}, 4096), {batchSize: 512, engineRoute: "one-pass", flashAttention: true, contextSize: 4096, prefixReuse: "auto"});
        assert.deepEqual(resolveNumericsSettings({batchSize: 2048, engineRoute: "auto", flashAttention: false, prefixReuse: "off"}, 1024),
            {batchSize: 1024, engineRoute: "one-pass", flashAttention: false, contextSize: 1024, prefixReuse: "off"});
        assert.equal(resolveNumericsSettings({engineRoute: "three-pass"}, 64).engineRoute, "three-pass");
    });

    it("refuses what no engine computes, naming the flag", () => {
        for (const [options, flag] of [[{batchSize: 0}, "--batch-size"], [{batchSize: 1.5}, "--batch-size"], [{engineRoute: "two-pass"}, "--engine-route"], [{prefixReuse: "on"}, "--prefix-reuse"]] as const)
            assert.throws(() => resolveNumericsSettings(options, 4096), (error: unknown) => error instanceof OrchardError && error.code === "INVALID_ARGUMENT" && error.message.startsWith(flag));
        assert.equal(numericsSettingsSchema.safeParse({batchSize: 512, engineRoute: "auto", flashAttention: true, contextSize: 4096}).success, false, "a record never pins auto");
    });

    it("a run made before numerics were recorded takes today's defaults with its own context size, and no prefix reuse", () => {
        assert.deepEqual(runNumericsOf({contextSize: 256}), {batchSize: 256, engineRoute: "one-pass", flashAttention: true, contextSize: 256, prefixReuse: "off"});
        const recorded = {batchSize: 16, engineRoute: "three-pass", flashAttention: false, contextSize: 512, prefixReuse: "auto"} as const;
        assert.deepEqual(runNumericsOf({contextSize: 512, numerics: recorded}), recorded);
    });

    it("a run recorded before prefix reuse existed evaluated every prompt in full: it reads back as off", () => {
        const parsed = numericsSettingsSchema.parse({batchSize: 512, engineRoute: "one-pass", flashAttention: true, contextSize: 4096});
        assert.equal(parsed.prefixReuse, "off");
        assert.equal(numericsDifference(parsed, resolveNumericsSettings({}, 4096)), "prefixReuse", "today's default (auto) computes other bits than such a run");
    });

    it("names the first setting that differs, and the extract flags that recompute a run's document", () => {
        const a = resolveNumericsSettings({}, 4096);
        assert.equal(numericsDifference(a, {...a}), undefined);
        assert.equal(numericsDifference(a, {...a, flashAttention: false}), "flashAttention");
        assert.deepEqual(numericsExtractFlags({...a, flashAttention: false}),
            ["--batch-size", "512", "--engine-route", "one-pass", "--no-flash-attention", "--context-size", "4096", "--prefix-reuse", "auto"]);
        assert.equal(describeNumerics(a), "batch 512, one-pass, flash attention on, context 4096, prefix reuse auto");
    });
});

describe("a run's machine requirement", () => {
    const mac = {backend: "metal", chip: "Apple M2 Ultra"};
    it("matches the backend exactly and the chip as a substring, ignoring case", () => {
        assert.equal(machineRefusal(undefined, mac), undefined);
        assert.equal(machineRefusal({backend: "metal", chip: "m2 ultra"}, mac), undefined);
        assert.match(machineRefusal({backend: "cuda"}, mac) ?? "", /requires backend cuda; this worker computes on metal/);
        assert.match(machineRefusal({chip: "M3"}, mac) ?? "", /requires a chip matching "M3"/);
        assert.match(machineRefusal({backend: "cpu"}, {backend: "simulated", chip: "x"}) ?? "", /simulated/);
    });
});
