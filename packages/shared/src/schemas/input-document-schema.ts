import {z} from "zod";

/**
 * One line of an input JSONL dataset (Reexpress format). Unknown keys are ignored, as the seed
 * script did; the output carries only the fields below.
 */
export const inputDocumentSchema = z.object({
    id: z.string({error: (issue) => issue.input === undefined ? "missing field \"id\"" : "field \"id\" must be a string"})
        .min(1, {error: "field \"id\" must not be empty"}),
    label: z.number({error: (issue) => issue.input === undefined ? "missing field \"label\"" : "field \"label\" must be an integer"})
        .int({error: "field \"label\" must be an integer"}),
    document: z.string({error: (issue) => issue.input === undefined ? "missing field \"document\"" : "field \"document\" must be a string"}),
    prompt: z.string({error: "field \"prompt\" must be a string"}).optional(),
    info: z.string({error: "field \"info\" must be a string"}).optional(),
    group: z.string({error: "field \"group\" must be a string"}).optional()
});

export type InputDocument = z.infer<typeof inputDocumentSchema>;
