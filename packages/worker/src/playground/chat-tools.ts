import {defineChatSessionFunction} from "node-llama-cpp";
import {ArithmeticError, evaluateArithmetic} from "./arithmetic-parser.ts";

/** A tool call as the page shows it. */
export interface ToolCall {
    readonly name: string;
    readonly params: unknown;
    readonly result: string;
}

/**
 * The chat's tools (off unless a request asks for them), as node-llama-cpp functions: `calculate`
 * evaluates arithmetic with the safe parser (never eval), `final_answer` records the answer and
 * ends the turn (through `finish`), as a simple agent loop does. Each call is reported to `onCall`.
 */
export function chatTools(hooks: {onCall: (call: ToolCall) => void; finish: (answer: string) => void}) {
    return {
        calculate: defineChatSessionFunction({
            description: "Evaluates an arithmetic expression: numbers, + - * / % ^ and parentheses",
            params: {type: "object", properties: {expression: {type: "string"}}},
            handler: ({expression}) => {
                const result = calculatorResult(expression);
                hooks.onCall({name: "calculate", params: {expression}, result});
                return result;
            }
        }),
        final_answer: defineChatSessionFunction({
            description: "Gives the final answer to the user and ends the turn",
            params: {type: "object", properties: {answer: {type: "string"}}},
            handler: ({answer}) => {
                hooks.onCall({name: "final_answer", params: {answer}, result: "ok"});
                hooks.finish(answer);
                return "ok";
            }
        })
    };
}

/** The calculator's answer to the model: the value, or why the expression was refused (never a thrown error). */
export function calculatorResult(expression: string): string {
    try {
        return String(evaluateArithmetic(expression));
    } catch (error) {
        if (error instanceof ArithmeticError) return `error: ${error.message}`;
        throw error;
    }
}
