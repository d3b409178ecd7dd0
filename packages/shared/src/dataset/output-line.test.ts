import assert from "node:assert/strict";
import {describe, it} from "node:test";
import type {PromptSettings} from "../prompt/reask-prompt.ts";
import {formatOutputLine} from "./output-line.ts";
import type {PreparedDocument} from "./prepared-document.ts";

const base: PromptSettings = {promptText: "P:", trailingInstruction: "Q?", useJsonPrompt: false, combinePromptAndDocument: false, dropPrompt: false, maxDocumentChars: 4800};
const prepared: PreparedDocument = {
    index: 0, lineNumber: 1, documentText: "the doc", promptText: "P:",
    doc: {id: "x", label: 1, document: " the doc ", info: "inf", group: "grp"}
};
const attributes = [0.5, -0.25];

describe("formatOutputLine", () => {
    it("writes id, label, document, attributes, prompt, info, group in that order", () => {
        assert.equal(formatOutputLine(prepared, attributes, base),
            "{\"id\":\"x\",\"label\":1,\"document\":\"the doc\",\"attributes\":[0.5,-0.25],\"prompt\":\"P:\",\"info\":\"inf\",\"group\":\"grp\"}");
    });
    it("drops the prompt", () => {
        assert.equal(formatOutputLine(prepared, attributes, {...base, dropPrompt: true}),
            "{\"id\":\"x\",\"label\":1,\"document\":\"the doc\",\"attributes\":[0.5,-0.25],\"info\":\"inf\",\"group\":\"grp\"}");
    });
    it("combines prompt and document", () => {
        const line = JSON.parse(formatOutputLine({...prepared, doc: {id: "x", label: 0, document: "d"}}, attributes, {...base, combinePromptAndDocument: true}));
        assert.deepEqual(line, {id: "x", label: 0, document: "P: the doc", attributes});
    });
});
