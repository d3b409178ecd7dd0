import {z} from "zod";
import {ATTRIBUTE_CLIP} from "./attribute-definitions.ts";

/**
 * One attribute value as computeAttributes makes it (toAttributeValue): finite, clipped to
 * [-ATTRIBUTE_CLIP, ATTRIBUTE_CLIP] and rounded to a float32. Anything else did not come from a
 * working engine (a NaN of a broken backend, or a worker lying).
 */
export const attributeValueSchema = z.number()
    .min(-ATTRIBUTE_CLIP).max(ATTRIBUTE_CLIP)
    .refine((value) => Math.fround(value) === value, {error: "an attribute value is a float32"});
