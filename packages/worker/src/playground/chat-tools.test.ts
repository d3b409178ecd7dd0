import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {calculatorResult, chatTools, type ToolCall} from "./chat-tools.ts";

describe("the chat's tools", () => {
    it("calculate answers with the value, or with why it refused the expression (never by running it)", async () => {
        const calls: ToolCall[] = [];
        const tools = chatTools({onCall: (call) => calls.push(call), finish: () => assert.fail("calculate does not end the turn")});
        assert.equal(await tools.calculate.handler({expression: "(2 + 3) * 4"}), "20");
        assert.match(String(await tools.calculate.handler({expression: "process.exit(1)"})), /^error: unexpected "p"/);
        assert.equal(calculatorResult("1 / 0"), "error: division by zero");
        assert.deepEqual(calls.map((call) => call.result), ["20", "error: unexpected \"p\" at character 1"]);
    });

    it("final_answer hands its answer over and ends the turn", async () => {
        let finished: string | undefined;
        const tools = chatTools({onCall: () => undefined, finish: (answer) => (finished = answer)});
        assert.equal(await tools.final_answer.handler({answer: "42"}), "ok");
        assert.equal(finished, "42");
    });
});
