import {readFile} from "node:fs/promises";
import {OrchardError} from "../errors/orchard-error.ts";

/**
 * Keywords node-llama-cpp's JSON-schema grammar does not enforce (measured on 3.22.1; see
 * /work/shared/FACTS.md): a schema using them would be "satisfied" only in part, so it is refused.
 */
const UNSUPPORTED_KEYWORDS = ["pattern", "anyOf", "allOf", "not", "if", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "patternProperties"];

/** Reads a --json-schema file: a JSON object using only what the grammar enforces. */
export async function readJsonSchemaFile(path: string): Promise<Record<string, unknown>> {
    let text: string;
    try {
        text = await readFile(path, "utf8");
    } catch (error) {
        throw new OrchardError("INPUT_NOT_FOUND", `${path}: --json-schema file not found or unreadable`, {cause: error});
    }
    let schema: unknown;
    try {
        schema = JSON.parse(text);
    } catch (error) {
        throw new OrchardError("INVALID_ARGUMENT", `${path}: --json-schema is not valid JSON (${(error as Error).message})`);
    }
    if (typeof schema !== "object" || schema === null || Array.isArray(schema))
        throw new OrchardError("INVALID_ARGUMENT", `${path}: --json-schema must be a JSON object (a JSON schema)`);
    const unsupported = findUnsupportedKeyword(schema, "#");
    if (unsupported !== undefined)
        throw new OrchardError("INVALID_ARGUMENT",
            `${path}: --json-schema uses "${unsupported.keyword}" at ${unsupported.at}, which node-llama-cpp's JSON-schema grammar does not enforce ` +
            "(supported: type, const, enum, oneOf, properties, items/prefixItems, min/maxItems, min/maxLength, min/maxProperties, format, $defs/$ref)");
    return schema as Record<string, unknown>;
}

function findUnsupportedKeyword(value: unknown, at: string): {keyword: string; at: string} | undefined {
    if (Array.isArray(value)) {
        for (const [index, item] of value.entries()) {
            const found = findUnsupportedKeyword(item, `${at}/${index}`);
            if (found !== undefined) return found;
        }
        return undefined;
    }
    if (typeof value !== "object" || value === null) return undefined;
    for (const [key, child] of Object.entries(value)) {
        // property names and enum/const values are data, not keywords
        if (key === "enum" || key === "const") continue;
        if (UNSUPPORTED_KEYWORDS.includes(key) && !at.endsWith("/properties")) return {keyword: key, at};
        const found = findUnsupportedKeyword(child, `${at}/${key}`);
        if (found !== undefined) return found;
    }
    return undefined;
}
