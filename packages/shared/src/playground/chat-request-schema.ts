import {z} from "zod";

/** Most new tokens a chat turn may ask for. */
export const MAX_CHAT_NEW_TOKENS = 4096;

const chatMessageSchema = z.strictObject({
    role: z.enum(["user", "assistant"], {error: "a message's \"role\" must be \"user\" or \"assistant\""}),
    text: z.string({error: "a message's \"text\" must be a string"})
});

/** Body of `POST /api/chat`: the conversation so far (ending with the user's turn) and the sampling settings. */
export const chatRequestSchema = z.strictObject({
    messages: z.array(chatMessageSchema, {error: "\"messages\" must be a list of {role, text}"}).min(1, {error: "\"messages\" is empty"})
        .refine((messages) => messages.at(-1)?.role === "user", {error: "the last message must be the user's"})
        .refine((messages) => (messages.at(-1)?.text.trim() ?? "") !== "", {error: "the last message is empty"}),
    maxTokens: z.number().int().min(1).max(MAX_CHAT_NEW_TOKENS, {error: `"maxTokens" must be an integer from 1 to ${MAX_CHAT_NEW_TOKENS}`}).optional(),
    temperature: z.number().min(0, {error: "\"temperature\" must be 0 or more"}).optional(),
    topP: z.number().gt(0).max(1, {error: "\"topP\" must be in (0, 1]"}).optional(),
    topK: z.number().int().min(0, {error: "\"topK\" must be a non-negative integer"}).optional(),
    repetitionPenalty: z.number().gt(0, {error: "\"repetitionPenalty\" must be positive (1 disables it)"}).optional(),
    seed: z.number().int().min(0).max(2 ** 32 - 1, {error: "\"seed\" must be an integer from 0 to 4294967295"}).optional(),
    jsonSchema: z.record(z.string(), z.unknown(), {error: "\"jsonSchema\" must be a JSON schema object"}).optional(),
    /** The calculator and final-answer tools (node-llama-cpp function calling); off by default, and not with a JSON schema. */
    tools: z.boolean({error: "\"tools\" must be true or false"}).optional()
}).refine((request) => !(request.tools === true && request.jsonSchema !== undefined), {error: "tools and a JSON schema exclude each other: choose one"});

export type ChatRequest = z.infer<typeof chatRequestSchema>;
