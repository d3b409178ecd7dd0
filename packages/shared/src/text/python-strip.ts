/**
 * Python's `str.strip()` with no argument, so that documents are cut exactly as the seed script
 * cut them: JavaScript's `trim()` also strips U+FEFF and keeps U+001C..U+001F and U+0085, which
 * Python treats the other way round.
 */
const PYTHON_WHITESPACE = new Set([
    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680,
    0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a,
    0x2028, 0x2029, 0x202f, 0x205f, 0x3000
]);

export function pythonStrip(text: string): string {
    let start = 0;
    let end = text.length;
    // every Python whitespace code point is in the BMP, so UTF-16 units are enough here
    while (start < end && PYTHON_WHITESPACE.has(text.charCodeAt(start))) start++;
    while (end > start && PYTHON_WHITESPACE.has(text.charCodeAt(end - 1))) end--;
    return text.slice(start, end);
}

/** Python's `text[:n]`: the first n code points (not UTF-16 units, so no surrogate is split). */
export function takeCodePoints(text: string, count: number): string {
    if (text.length <= count) return text; // fewer units than count means fewer code points too
    let units = 0;
    let taken = 0;
    for (const char of text) {
        if (taken === count) break;
        units += char.length;
        taken++;
    }
    return text.slice(0, units);
}

/** Number of code points (Python's len). */
export function codePointLength(text: string): number {
    let count = 0;
    for (const _ of text) count++;
    return count;
}
