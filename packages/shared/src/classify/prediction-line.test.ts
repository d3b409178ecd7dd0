import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {formatPredictionLine, parsePredictionLine} from "./prediction-line.ts";

const LABELS = {file: "labels.jsonl", labels: [{label: 0, name: "sad"}, {label: 2, name: "calm"}, {label: 10, name: "happy"}]};

describe("predictions line", () => {
    it("keys probabilities by label in ascending order and reads the line back to the same bytes", () => {
        const line = formatPredictionLine("d1", {predictedLabel: 10, predictedName: "happy", probabilities: [0.25, 0.25, 0.5]}, LABELS);
        assert.equal(line, "{\"id\":\"d1\",\"predicted_label\":10,\"predicted_name\":\"happy\",\"probabilities\":{\"0\":0.25,\"2\":0.25,\"10\":0.5}}");
        const parsed = parsePredictionLine(line, LABELS);
        assert.ok(parsed);
        assert.equal(formatPredictionLine(parsed.id, parsed.result, LABELS), line);
    });

    it("does not read back a line written for other labels", () => {
        const other = {file: "labels.jsonl", labels: [{label: 0, name: "sad"}, {label: 1, name: "calm"}, {label: 10, name: "happy"}]};
        assert.equal(parsePredictionLine(formatPredictionLine("d1", {predictedLabel: 1, predictedName: "calm", probabilities: [0.2, 0.3, 0.5]}, other), LABELS), undefined);
        assert.equal(parsePredictionLine(formatPredictionLine("d1", {predictedLabel: 0, predictedName: "happy", probabilities: [0.2, 0.3, 0.5]}, LABELS), LABELS), undefined);
        assert.equal(parsePredictionLine("{\"id\":\"d1\"}", LABELS), undefined);
        assert.equal(parsePredictionLine("not json", LABELS), undefined);
    });
});
