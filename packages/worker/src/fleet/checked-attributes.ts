import {ATTRIBUTE_COUNT, attributeValueSchema, OrchardError} from "@orchard/shared";

/**
 * The engine's values if the coordinator will accept them (ATTRIBUTE_COUNT values, each finite, in
 * [-2, 2] and a float32: the re-ask's result schema). A broken backend's NaN fails the attempt here, where
 * BullMQ retries it on this or another worker, instead of a result the coordinator would reject.
 */
export function checkedAttributes(attributes: number[], id: string): number[] {
    const bad = attributes.find((value) => !attributeValueSchema.safeParse(value).success);
    if (attributes.length !== ATTRIBUTE_COUNT || bad !== undefined)
        throw new OrchardError("ENGINE_FAILED", attributes.length !== ATTRIBUTE_COUNT
            ? `the engine returned ${attributes.length} attribute values for document "${id}", not ${ATTRIBUTE_COUNT}`
            : `the engine returned an invalid attribute value for document "${id}": ${bad} (values are finite float32s in [-2, 2])`, {retryable: true});
    return attributes;
}
