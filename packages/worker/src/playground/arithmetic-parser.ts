/** Longest expression the calculator reads, in characters: a model's arithmetic, not a program. */
export const MAX_EXPRESSION_LENGTH = 500;
/** Deepest nesting of parentheses and unary signs: bounds the recursion, whatever the input. */
const MAX_DEPTH = 50;

/** An expression the calculator refuses, with the reason (what the model is told). */
export class ArithmeticError extends Error {
    public constructor(message: string) {
        super(message);
        this.name = "ArithmeticError";
    }
}

/**
 * Evaluates arithmetic for the playground's calculator tool: numbers (decimal, with an optional
 * exponent), + - * / % ^ (power, right-associative), unary signs and parentheses. A hand-written
 * recursive-descent parser over a fixed grammar: it never calls eval or Function, looks up no
 * names (so no property, prototype or global is ever reached), bounds the length and nesting of
 * what it reads, and refuses a result that is not a finite number (division by zero, overflow).
 *
 *   expression = term (("+" | "-") term)*
 *   term       = power (("*" | "/" | "%") power)*
 *   power      = unary ("^" power)?
 *   unary      = ("+" | "-") unary | primary
 *   primary    = number | "(" expression ")"
 */
export function evaluateArithmetic(expression: string): number {
    if (typeof expression !== "string") throw new ArithmeticError("the expression must be text");
    if (expression.length > MAX_EXPRESSION_LENGTH) throw new ArithmeticError(`the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
    const parser = new Parser(expression);
    const value = parser.expression(0);
    parser.skipSpaces();
    if (!parser.atEnd()) throw new ArithmeticError(`unexpected ${JSON.stringify(parser.peek())} at character ${parser.position + 1}`);
    if (!Number.isFinite(value)) throw new ArithmeticError("the result is not a finite number (division by zero or overflow)");
    return value;
}

class Parser {
    public position = 0;
    readonly #text: string;

    public constructor(text: string) {
        this.#text = text;
    }

    public atEnd(): boolean {
        return this.position >= this.#text.length;
    }

    public peek(): string {
        return this.#text[this.position] ?? "";
    }

    public skipSpaces(): void {
        while (this.peek() === " " || this.peek() === "\t") this.position++;
    }

    public expression(depth: number): number {
        let value = this.term(depth);
        for (;;) {
            this.skipSpaces();
            const operator = this.peek();
            if (operator !== "+" && operator !== "-") return value;
            this.position++;
            const right = this.term(depth);
            value = operator === "+" ? value + right : value - right;
        }
    }

    term(depth: number): number {
        let value = this.power(depth);
        for (;;) {
            this.skipSpaces();
            const operator = this.peek();
            if (operator !== "*" && operator !== "/" && operator !== "%") return value;
            this.position++;
            const right = this.power(depth);
            if ((operator === "/" || operator === "%") && right === 0) throw new ArithmeticError("division by zero");
            value = operator === "*" ? value * right : operator === "/" ? value / right : value % right;
        }
    }

    power(depth: number): number {
        const base = this.unary(depth);
        this.skipSpaces();
        if (this.peek() !== "^") return base;
        this.position++;
        return base ** this.power(this.#deeper(depth));
    }

    unary(depth: number): number {
        this.skipSpaces();
        const sign = this.peek();
        if (sign === "+" || sign === "-") {
            this.position++;
            const value = this.unary(this.#deeper(depth));
            return sign === "-" ? -value : value;
        }
        return this.primary(depth);
    }

    primary(depth: number): number {
        this.skipSpaces();
        if (this.peek() === "(") {
            this.position++;
            const value = this.expression(this.#deeper(depth));
            this.skipSpaces();
            if (this.peek() !== ")") throw new ArithmeticError(`missing ")" at character ${this.position + 1}`);
            this.position++;
            return value;
        }
        const match = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(this.#text.slice(this.position, this.position + 400));
        if (match === null)
            throw new ArithmeticError(this.atEnd() ? "the expression ends where a number was expected" : `unexpected ${JSON.stringify(this.peek())} at character ${this.position + 1}`);
        this.position += match[0].length;
        return Number(match[0]);
    }

    #deeper(depth: number): number {
        if (depth + 1 > MAX_DEPTH) throw new ArithmeticError(`the expression nests deeper than ${MAX_DEPTH} levels`);
        return depth + 1;
    }
}
