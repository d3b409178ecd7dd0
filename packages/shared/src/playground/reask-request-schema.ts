import {z} from "zod";

/** Id of the output line when a re-ask request names none. */
export const DEFAULT_REASK_ID = "playground";
/** Label of the output line when a re-ask request names none. */
export const DEFAULT_REASK_LABEL = 0;

/** Body of `POST /api/reask`. Unknown keys are refused, so a misspelt field is never silently ignored. */
export const reaskRequestSchema = z.strictObject({
    promptText: z.string({error: "\"promptText\" must be a string"}).refine((text) => text.trim() !== "", {error: "\"promptText\" is empty: give the instruction placed before the document"}),
    trailingInstruction: z.string({error: "\"trailingInstruction\" must be a string"})
        .refine((text) => text.trim() !== "", {error: "\"trailingInstruction\" is empty: give the question placed after the document"}),
    document: z.string({error: "\"document\" must be a string"}),
    id: z.string({error: "\"id\" must be a string"}).min(1, {error: "\"id\" must not be empty"}).optional(),
    label: z.number({error: "\"label\" must be an integer"}).int({error: "\"label\" must be an integer"}).optional()
});

export type ReaskRequest = z.infer<typeof reaskRequestSchema>;

/** Answer of `POST /api/reask`. */
export interface ReaskResponse {
    /** "Yes" or "No": the larger of the two logits at the last position ("Yes" on a tie). */
    readonly answer: "Yes" | "No";
    /** softmax over {Yes, No} of the raw logits. */
    readonly yesProbability: number;
    readonly yesLogit: number;
    readonly noLogit: number;
    /** The 32 attributes, in ATTRIBUTE_NAMES order: exactly what `orchard extract` writes. */
    readonly attributes: readonly number[];
    /** The line `orchard extract --drop-prompt` writes for this document. */
    readonly line: string;
    /** Prompt tokens, BOS included. */
    readonly tokens: number;
    /** The prompt as the model reads it after BOS. */
    readonly prompt: string;
    /** Whether the document was cut to the maximum document length (as extract cuts it). */
    readonly documentCut: boolean;
}
