/** The bytes a request asks for, both ends included. */
export interface ByteRange {
    readonly start: number;
    readonly end: number;
}

/**
 * The range of a `Range` header over a file of `size` bytes: undefined without a header (the whole
 * file), "unsatisfiable" for anything this server does not serve, which the caller answers with
 * 416. One range only (`bytes=a-b`, `bytes=a-`, `bytes=-n`): the workers ask for one, and a
 * malformed or multi-range header is refused rather than silently answered with the whole file,
 * so a client bug shows at once instead of as a 26 GB transfer.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | undefined {
    if (header === undefined) return undefined;
    const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
    if (match === null) return "unsatisfiable";
    const [, first = "", last = ""] = match;
    if (first === "" && last === "") return "unsatisfiable";
    if (first === "") {
        // a suffix: the last n bytes
        const length = Number(last);
        if (length === 0 || size === 0) return "unsatisfiable";
        return {start: Math.max(0, size - length), end: size - 1};
    }
    const start = Number(first);
    const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
    if (!Number.isSafeInteger(start) || start >= size || (last !== "" && Number(last) < start)) return "unsatisfiable";
    return {start, end};
}
