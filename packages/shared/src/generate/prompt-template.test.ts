import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {PromptTemplate} from "./prompt-template.ts";

describe("PromptTemplate", () => {
    it("fills {field} from a line, strings as they are and other values as JSON, {{ }} as literal braces", () => {
        const template = PromptTemplate.parse("Write a {name} review ({{stars}}: {stars}) of {topic}, {name}.");
        assert.ok(template instanceof PromptTemplate);
        assert.deepEqual(template.fields, ["name", "stars", "topic"]);
        assert.deepEqual(template.fill({name: "positive", stars: 4, topic: "a \"western\""}), {text: "Write a positive review ({stars}: 4) of a \"western\", positive."});
    });

    it("names the first field a line lacks (absent or null)", () => {
        const template = PromptTemplate.parse("{a} and {b}") as PromptTemplate;
        assert.deepEqual(template.fill({a: "x"}), {missing: "b"});
        assert.deepEqual(template.fill({a: null, b: "y"}), {missing: "a"});
        // inherited properties are not fields of the line
        assert.deepEqual((PromptTemplate.parse("{constructor}") as PromptTemplate).fill({}), {missing: "constructor"});
    });

    it("returns a reason for a malformed template", () => {
        assert.match(PromptTemplate.parse("Write {name") as string, /unclosed "\{" at character 7/);
        assert.match(PromptTemplate.parse("Write {} now") as string, /"\{\}" at character 7 is not a field name/);
        assert.match(PromptTemplate.parse("Write name}") as string, /unmatched "\}" at character 11/);
    });
});
