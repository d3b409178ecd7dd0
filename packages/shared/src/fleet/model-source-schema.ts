import {z} from "zod";
import {isoTimeSchema, nameSchema} from "./fleet-schemas.ts";

/** A hex SHA-256: model fingerprints and file digests (the model cache names its files after them). */
export const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, {error: "a lower-case hex SHA-256"});

/** Longest model server address accepted from Redis, in characters. */
const MAX_URL_CHARS = 2048;

/**
 * `<prefix>:model-source:<fingerprint>` (FleetKeys.modelSource): a model served over HTTP by
 * `orchard run --serve-model` or `orchard serve-model`. Any machine with the Redis URL can write it,
 * so a worker reads it through this schema: only http(s) addresses, hex digests, bounded strings.
 * The worker names the downloaded file itself (from the fingerprint), never from this record.
 */
export const modelSourceSchema = z.object({
    v: z.literal(1),
    /** The model file's address: GET (with Range) and HEAD, `Authorization: Bearer <token>`. */
    url: z.string().max(MAX_URL_CHARS).refine((text) => {
        try {
            const url = new URL(text);
            return (url.protocol === "http:" || url.protocol === "https:") && url.username === "" && url.password === "";
        } catch {
            return false;
        }
    }, {error: "an http(s) URL without credentials"}),
    /** What the server asks for on every request (random, ~43 characters). */
    token: z.string().regex(/^[A-Za-z0-9_-]{32,128}$/, {error: "32 to 128 URL-safe characters"}),
    /** modelFingerprint() of the file (the real engine's: runs of the simulated engine derive theirs from it). */
    fingerprint: sha256HexSchema,
    sizeBytes: z.number().int().nonnegative(),
    /** SHA-256 of the whole file, computed by the server. */
    sha256: sha256HexSchema,
    /** `general.name`, for messages. */
    name: nameSchema.optional(),
    /** Host that serves it, for messages. */
    servedBy: nameSchema,
    startedAt: isoTimeSchema
});
export type ModelSource = z.infer<typeof modelSourceSchema>;

/** `<state dir>/model-digests/<hash of the path>.json`: a served model's SHA-256 and the file (path, size, mtime) it was computed from. */
export const modelDigestRecordSchema = z.object({
    v: z.literal(1),
    path: z.string(),
    sizeBytes: z.number().int().nonnegative(),
    mtimeMs: z.number().nonnegative(),
    sha256: sha256HexSchema
});
