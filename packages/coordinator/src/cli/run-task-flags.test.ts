import assert from "node:assert/strict";
import {mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {describe, it} from "node:test";
import {DEFAULT_GENERATION_SAMPLING} from "@orchard/shared";
import {runTaskFromArgs, type RunTaskFlagValues} from "./run-task-flags.ts";

/** The parsed flags of `orchard run` with no task flag given (the sampling flags have defaults). */
function args(overrides: Partial<RunTaskFlagValues> & Record<string, unknown>): RunTaskFlagValues {
    return {task: "reask", outputFormat: "generated", ...DEFAULT_GENERATION_SAMPLING, ...overrides} as unknown as RunTaskFlagValues;
}

describe("orchard run --task", () => {
    it("reask (also named extract, as in orchard extract --task) is the default task: no task in the run", async () => {
        assert.equal(await runTaskFromArgs(args({})), undefined);
        assert.equal(await runTaskFromArgs(args({task: "extract"})), undefined);
    });

    it("refuses another task's flags, and classify without --labels", async () => {
        await assert.rejects(runTaskFromArgs(args({labels: "labels.jsonl"})), {code: "INVALID_ARGUMENT", message: /--labels is for --task classify/});
        await assert.rejects(runTaskFromArgs(args({task: "generate", labelPrompt: "{document}"})), {code: "INVALID_ARGUMENT", message: /--label-prompt is for --task classify/});
        await assert.rejects(runTaskFromArgs(args({task: "classify", template: "{q}"})), {code: "INVALID_ARGUMENT", message: /--template applies to --task generate only/});
        await assert.rejects(runTaskFromArgs(args({task: "classify"})), {code: "INVALID_ARGUMENT", message: /--task classify needs --labels/});
    });

    it("reads classify's labels and generate's settings into the run's task", async () => {
        const dir = await mkdtemp(join(tmpdir(), "run-task-flags-"));
        try {
            const labels = join(dir, "labels.jsonl");
            await writeFile(labels, "{\"label\": 0, \"name\": \"sad\"}\n{\"label\": 1, \"name\": \"happy\"}\n");
            const classify = await runTaskFromArgs(args({task: "classify", labels}));
            assert.equal(classify?.kind, "classify");
            assert.deepEqual(classify?.kind === "classify" ? classify.settings.labels : undefined, [{label: 0, name: "sad"}, {label: 1, name: "happy"}]);
            const generate = await runTaskFromArgs(args({task: "generate", promptField: "q"}));
            assert.equal(generate?.kind, "generate");
        } finally {
            await rm(dir, {recursive: true, force: true});
        }
    });
});
