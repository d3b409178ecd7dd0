/**
 * A `--template` such as "Write a {label_name} movie review about {topic}.": `{name}` is replaced
 * by the input line's field `name`; `{{` and `}}` are literal braces. Parsed once, filled per line.
 */
export class PromptTemplate {
    readonly #parts: readonly ({readonly text: string} | {readonly field: string})[];
    /** The fields the template names, in order of first use. */
    public readonly fields: readonly string[];

    private constructor(parts: readonly ({text: string} | {field: string})[]) {
        this.#parts = parts;
        this.fields = [...new Set(parts.flatMap((part) => ("field" in part ? [part.field] : [])))];
    }

    /** Parses a template; returns a reason string when it is malformed (an unclosed or empty `{}`). */
    public static parse(template: string): PromptTemplate | string {
        const parts: ({text: string} | {field: string})[] = [];
        let text = "";
        for (let i = 0; i < template.length; i++) {
            const char = template[i] as string;
            if ((char === "{" || char === "}") && template[i + 1] === char) {
                text += char;
                i++;
            } else if (char === "{") {
                const end = template.indexOf("}", i + 1);
                const field = end < 0 ? "" : template.slice(i + 1, end);
                if (end < 0) return `unclosed "{" at character ${i + 1} (write "{{" for a literal brace)`;
                if (field.trim() === "" || field.includes("{")) return `"{${field}}" at character ${i + 1} is not a field name`;
                if (text !== "") parts.push({text});
                text = "";
                parts.push({field});
                i = end;
            } else if (char === "}") {
                return `unmatched "}" at character ${i + 1} (write "}}" for a literal brace)`;
            } else {
                text += char;
            }
        }
        if (text !== "") parts.push({text});
        return new PromptTemplate(parts);
    }

    /**
     * The template filled from one input line, or the name of the first field the line lacks
     * (absent or null). Strings go in as they are, other values as JSON.
     */
    public fill(line: Readonly<Record<string, unknown>>): {text: string} | {missing: string} {
        let text = "";
        for (const part of this.#parts) {
            if ("text" in part) {
                text += part.text;
                continue;
            }
            const value = Object.hasOwn(line, part.field) ? line[part.field] : undefined;
            if (value === undefined || value === null) return {missing: part.field};
            text += typeof value === "string" ? value : JSON.stringify(value);
        }
        return {text};
    }
}
