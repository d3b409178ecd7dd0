// The documents of `npm run bench:extract --workload`: written here, deterministic, shaped like
// the datasets issue 11 measured (SAPLMA-style fact-check statements; ~270-token reviews).
import {buildReaskPrompt, DEFAULT_PROMPT_TEXT, DEFAULT_TRAILING_INSTRUCTION} from "@orchard/shared";

export const WORKLOADS = ["sentiment", "factcheck"] as const;
export type Workload = (typeof WORKLOADS)[number];

/** One prompt of the benchmark: its full text and the prompt text it was built with (for prefix reuse). */
export interface BenchPrompt {
    readonly text: string;
    readonly promptText: string;
}

/** The fact-check tutorial's prompt text and trailing instruction, exactly as issue 11 quotes them. */
export const FACTCHECK_PROMPT_TEXT = "Given the following document, please answer the question. Document:";
export const FACTCHECK_TRAILING_INSTRUCTION = "Question: Does the previous document contain correct information and is it well-written?";

const SUBJECTS = ["The Nile", "Mount Everest", "Gold", "The Moon", "Water", "Paris", "Sharks", "Light", "Copper", "The Pacific Ocean",
    "Venus", "Tokyo", "The human heart", "Penguins", "Iron", "The Amazon River", "Mars", "Oxygen", "The Sahara", "Honey bees"];
const PREDICATES = ["is the largest", "boils at 100 degrees Celsius", "orbits the Sun", "is a chemical element", "lives in cold water",
    "has four chambers", "is found in Africa", "conducts electricity", "is a planet", "flows into the Atlantic", "is the capital of France",
    "produces honey", "is heavier than air", "melts at 1,064 degrees", "was discovered in 1774", "cannot fly", "is red", "is in Asia"];

/** `count` deterministic documents of the workload, as prompts. */
export function workloadPrompts(workload: Workload, count: number): BenchPrompt[] {
    return Array.from({length: count}, (_, d) => workload === "factcheck" ? factcheckPrompt(d) : sentimentPrompt(d));
}

/** A single-sentence statement of 20-80 characters (median ~40, as the real dataset's). */
function factcheckPrompt(d: number): BenchPrompt {
    const subject = SUBJECTS[(d * 7) % SUBJECTS.length] as string;
    const predicate = PREDICATES[(d * 11 + (d >> 2)) % PREDICATES.length] as string;
    let statement = `${subject} ${predicate}.`;
    // every third statement gets a clause, so lengths spread over the range
    if (d % 3 === 2) statement = `${subject} ${predicate}, ${PREDICATES[(d * 5) % PREDICATES.length]}.`;
    statement = statement.length > 80 ? `${statement.slice(0, 79).trimEnd()}.` : statement.padEnd(20, ".");
    return {text: buildReaskPrompt(FACTCHECK_PROMPT_TEXT, statement, FACTCHECK_TRAILING_INSTRUCTION), promptText: FACTCHECK_PROMPT_TEXT};
}

/** A ~270-token review-like text with today's default prompt. */
function sentimentPrompt(d: number): BenchPrompt {
    const words = "the film was a quiet surprise with strong performances sharp writing and a score that lingers long after the credits though the middle act drags and some jokes fall flat".split(" ");
    const text = Array.from({length: 215}, (_, i) => words[(i * 7 + d * 13 + (i >> 3)) % words.length]).join(" ");
    return {text: buildReaskPrompt(DEFAULT_PROMPT_TEXT, `Review ${d + 1}: ${text}.`, DEFAULT_TRAILING_INSTRUCTION), promptText: DEFAULT_PROMPT_TEXT};
}
