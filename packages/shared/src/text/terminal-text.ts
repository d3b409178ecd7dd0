/**
 * Text that came from outside the process (Redis: worker names, hosts, error messages, document
 * ids) made safe to print on a terminal. Any machine holding the Redis URL can write those strings,
 * and a terminal obeys what it prints: an escape sequence can clear the screen, move the cursor
 * over earlier lines, set the window title, or (OSC 52) write the clipboard.
 */

// ESC followed by a CSI (ESC [ ... final), an OSC / DCS / SOS / PM / APC string up to its
// terminator (BEL or ESC \) or the end of the text, or a two-byte sequence (ESC c, ESC 7...).
// C1 CSI (U+009B) and C1 string openers too: some terminals honour them in UTF-8.
// eslint-disable-next-line no-control-regex
const ESCAPE_SEQUENCE = /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?|(?:\x1b[\]P^_X]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[ -/]*[0-~]?/g;
/** Line breaks and tabs: a space in a one-line field, kept in multi-line text. */
// eslint-disable-next-line no-control-regex
const LAYOUT = /\r\n|[\t\n\r\v\f\u0085\u2028\u2029]/g;
/**
 * What is left of C0 (but tab and newline), DEL, C1, and the Unicode bidi controls that make text
 * display in another order than it reads (a "Trojan Source" name or message).
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export interface TerminalSafeOptions {
    /** Keep line breaks (as "\n") and tabs; default false: each becomes a space, for a one-line field. */
    readonly multiline?: boolean;
}

/** `text` without escape sequences and control characters (see TerminalSafeOptions for line breaks). */
export function terminalSafe(text: string, options: TerminalSafeOptions = {}): string {
    const withoutSequences = text.replace(ESCAPE_SEQUENCE, "");
    const laidOut = options.multiline === true
        ? withoutSequences.replace(LAYOUT, (match) => (match === "\t" ? "\t" : "\n"))
        : withoutSequences.replace(LAYOUT, " ");
    return laidOut.replace(CONTROL, "");
}

/**
 * A copy of `value` whose every string (in plain objects and arrays, at any depth) went through
 * terminalSafe: for a whole status report, so that no field, present or future, is forgotten.
 * Other objects (dates, errors, class instances) are returned as they are.
 */
export function terminalSafeStrings<T>(value: T, options: TerminalSafeOptions = {}): T {
    if (typeof value === "string") return terminalSafe(value, options) as T;
    if (Array.isArray(value)) return value.map((item: unknown) => terminalSafeStrings(item, options)) as T;
    if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
        const copy: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(value)) copy[terminalSafe(key, options)] = terminalSafeStrings(item, options);
        return copy as T;
    }
    return value;
}
