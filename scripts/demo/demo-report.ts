import {readFileSync} from "node:fs";

/** Attribute values shown of an output line; the rest are counted. */
const SHOWN_ATTRIBUTES = 4;
/** Characters of the document shown. */
const SHOWN_DOCUMENT_CHARS = 48;

export interface DemoReportOptions {
    /** The output file, to read. */
    readonly outputFile: string;
    /** The output file, as printed (relative to where the demo runs). */
    readonly output: string;
    /** The model file, as printed. */
    readonly model: string;
    /** The sample input, as printed. */
    readonly input: string;
    /** How the sample ran: the fleet, or `orchard extract` because there was no Redis. */
    readonly mode: "fleet" | "extract";
    /** What installs Redis here (only for mode "extract"). */
    readonly redisInstall?: string;
}

/** What the demo leaves behind and what to do next, printed after the run (issue 14, item 2). */
export function demoReport(options: DemoReportOptions): string {
    const lines = readFileSync(options.outputFile, "utf8").split("\n").filter((line) => line !== "");
    const first = lines[0] === undefined ? "(empty)" : abbreviateOutputLine(lines[0]);
    const own = options.mode === "fleet"
        ? "npx orchard run --model models/<mixtral>.gguf --input your-data.jsonl --output-dir out"
        : "npx orchard extract --model models/<mixtral>.gguf --input your-data.jsonl --output out/your-data.jsonl.attributes.jsonl";
    return [
        "",
        `Output: ${options.output}: ${lines.length} lines, one per document of ${options.input}, in input order; the first:`,
        `  ${first}`,
        "",
        "Next:",
        ...(options.mode === "fleet" ? [
            "  - Another machine joins a run with the URL the run prints: start it open to the network with",
            "      npm run demo -- --redis-bind 0.0.0.0",
            "    and on the other machine (this repository, npm ci, the same model file: npx orchard model synthesize --preset tiny --type f32 --seed 1 --out models/tiny-f32-seed1.gguf)",
            `      ORCHARD_REDIS_URL='<the URL after "Join from another machine">' npx orchard worker --model ${options.model}`,
            "  - Watch a run in the browser: npm run demo -- --dashboard   (or npx orchard status --watch in another terminal)"
        ] : [
            `  - The fleet (several processes and machines) needs Redis: ${options.redisInstall ?? "install redis-server"}, then npm run demo again`
        ]),
        "  - Your own data with the real model: download a Mixtral-8x7B-Instruct GGUF (README: \"Using the real Mixtral\"), then",
        `      ${own}`,
        ""
    ].join("\n");
}

/** An output line with its document cut and its 32 attributes abbreviated to the first few. */
export function abbreviateOutputLine(line: string): string {
    const row = JSON.parse(line) as Record<string, unknown>;
    const attributes = Array.isArray(row["attributes"]) ? row["attributes"] as unknown[] : [];
    const shown = {...row};
    if (typeof shown["document"] === "string" && shown["document"].length > SHOWN_DOCUMENT_CHARS)
        shown["document"] = `${shown["document"].slice(0, SHOWN_DOCUMENT_CHARS - 1)}…`;
    // a marker JSON.stringify leaves alone, replaced by the abbreviated array after
    const marker = "\u0000attributes\u0000";
    shown["attributes"] = marker;
    const values = attributes.slice(0, SHOWN_ATTRIBUTES).map((value) => (typeof value === "number" ? String(Number(value.toPrecision(4))) : String(value)));
    const more = attributes.length - SHOWN_ATTRIBUTES;
    return JSON.stringify(shown).replace(JSON.stringify(marker), `[${values.join(",")}${more > 0 ? `, … ${more} more` : ""}]`);
}
