/** Path of the first value that differs between two JSON values (`inputs[0].output`), or undefined when equal. Absent and undefined are the same. */
export function firstDifference(expected: unknown, actual: unknown, path = ""): string | undefined {
    if (Array.isArray(expected) || Array.isArray(actual)) {
        if (!Array.isArray(expected) || !Array.isArray(actual) || expected.length !== actual.length) return path || "(root)";
        for (const [i, item] of expected.entries()) {
            const found = firstDifference(item, actual[i], `${path}[${i}]`);
            if (found !== undefined) return found;
        }
        return undefined;
    }
    if (isObject(expected) && isObject(actual)) {
        for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
            const found = firstDifference(expected[key], actual[key], path === "" ? key : `${path}.${key}`);
            if (found !== undefined) return found;
        }
        return undefined;
    }
    return Object.is(expected, actual) ? undefined : (path || "(root)");
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
