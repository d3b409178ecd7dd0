import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {ArithmeticError, evaluateArithmetic, MAX_EXPRESSION_LENGTH} from "./arithmetic-parser.ts";

describe("the calculator's arithmetic parser", () => {
    it("computes with precedence, associativity, unary signs, parentheses and exponents", () => {
        const cases: [string, number][] = [
            ["1 + 2 * 3", 7], ["(1 + 2) * 3", 9], ["10 - 4 - 3", 3], ["2 ^ 3 ^ 2", 512], ["-2 ^ 2", 4], ["2 * -3", -6], ["--5", 5],
            ["7 % 4", 3], ["1.5e3 / 3", 500], [".5 + 0.25", 0.75], ["  ( ( 42 ) )  ", 42], ["12 / 4 * 3", 9], ["3.", 3]
        ];
        for (const [expression, expected] of cases) assert.equal(evaluateArithmetic(expression), expected, expression);
    });

    it("refuses anything but arithmetic: code, names, property access, strings, unknown operators", () => {
        const hostile = [
            "process.exit(1)", "require('fs')", "constructor.constructor('return process')()", "this", "globalThis", "__proto__",
            "1; 2", "1 + alert(1)", "(() => 1)()", "'1' + 1", "`${1}`", "1 // 2", "1 ** 2", "0x10", "1_000", "Infinity", "NaN", "1e", "[1]", "{}",
            "1 + ", "", "   ", "(1 + 2", "1 + 2)", "1 2", "\u0661 + 1", "1\n+ 1", "1 = 1", "a"
        ];
        for (const expression of hostile) assert.throws(() => evaluateArithmetic(expression), ArithmeticError, JSON.stringify(expression));
    });

    it("refuses results that are not finite numbers: division by zero, overflow", () => {
        for (const expression of ["1 / 0", "1 % 0", "0 / 0", "10 ^ 400", "-(10 ^ 400)", "9e999"])
            assert.throws(() => evaluateArithmetic(expression), ArithmeticError, expression);
    });

    it("bounds what it reads: over-long and deeply nested expressions are refused, not a stack overflow", () => {
        assert.throws(() => evaluateArithmetic("1+".repeat(MAX_EXPRESSION_LENGTH) + "1"), /longer than/);
        assert.throws(() => evaluateArithmetic(`${"(".repeat(200)}1${")".repeat(200)}`), /nests deeper/);
        assert.throws(() => evaluateArithmetic(`${"-".repeat(200)}1`), /nests deeper/);
        assert.throws(() => evaluateArithmetic(`${"2^".repeat(200)}1`), /nests deeper/);
        assert.throws(() => evaluateArithmetic(42 as unknown as string), ArithmeticError);
    });
});
