import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {OrchardError} from "../errors/orchard-error.ts";
import {assertLabelPromptTemplate, assertLabelTrailingInstruction, buildLabelPrompt, DEFAULT_LABEL_PROMPT, substituteLabel} from "./classify-prompt.ts";

const LABELS = [{label: 0, name: "sad"}, {label: 7, name: "happy {label}"}];

describe("classify prompts", () => {
    it("fills the label prompt in one pass: a document holding {labels} stays as written", () => {
        assert.equal(buildLabelPrompt(DEFAULT_LABEL_PROMPT, "Review:", "a {labels} b {prompt}", LABELS),
            "[INST] Review: a {labels} b {prompt}\nAnswer with exactly one of these labels, and nothing else:\nsad\nhappy {label} [/INST]");
    });

    it("substitutes {label_name} and {label} in one pass: a name holding {label} stays as written", () => {
        assert.equal(substituteLabel("Is it {label_name} ({label})? {label_name}", LABELS[1] as {label: number; name: string}),
            "Is it happy {label} (7)? happy {label}");
    });

    it("refuses a trailing instruction without the label and a label prompt without the document", () => {
        const invalid = (error: unknown) => error instanceof OrchardError && error.code === "INVALID_ARGUMENT";
        assert.throws(() => assertLabelTrailingInstruction("Is it positive?"), invalid);
        assert.throws(() => assertLabelPromptTemplate("[INST] {labels} [/INST]"), invalid);
        assertLabelTrailingInstruction("Is it class {label}?");
        assertLabelPromptTemplate(DEFAULT_LABEL_PROMPT);
    });
});
