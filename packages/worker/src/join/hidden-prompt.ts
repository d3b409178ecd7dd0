import {OrchardError} from "@orchard/shared";

/** A terminal to ask on: stdin in raw mode (nothing echoed), the prompt on stderr. */
export interface PromptTerminal {
    readonly input: NodeJS.ReadStream;
    readonly output: NodeJS.WritableStream;
}

/**
 * Asks for a secret on `terminal` without echoing it: raw mode, so the typed characters never reach
 * the screen (nor the scroll-back). Enter ends it, Backspace removes a character, Ctrl-C or Ctrl-D
 * cancels (INVALID_ARGUMENT, nothing stored). Only for a TTY: the caller checks `input.isTTY`.
 */
export function askHidden(prompt: string, terminal: PromptTerminal = {input: process.stdin, output: process.stderr}): Promise<string> {
    const {input, output} = terminal;
    return new Promise<string>((resolve, reject) => {
        let value: string[] = [];
        const finish = (outcome: () => void) => {
            input.off("data", onData);
            input.setRawMode(false);
            input.pause();
            output.write("\n");
            outcome();
        };
        const onData = (chunk: Buffer | string) => {
            for (const character of String(chunk)) {
                if (character === "\r" || character === "\n") return finish(() => resolve(value.join("")));
                if (character === "\u0003" || character === "\u0004")
                    return finish(() => reject(new OrchardError("INVALID_ARGUMENT", "cancelled: no password given, nothing stored")));
                if (character === "\u007f" || character === "\b") value = value.slice(0, -1);
                else if (character >= " ") value.push(character);
            }
        };
        output.write(prompt);
        input.setRawMode(true);
        input.setEncoding("utf8");
        input.on("data", onData);
        input.resume();
    });
}
