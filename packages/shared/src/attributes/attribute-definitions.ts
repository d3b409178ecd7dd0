/** Number of attributes per document; the order below is a contract with Reexpress imports. */
export const ATTRIBUTE_COUNT = 32;
/** Hidden-state summaries split the final-norm hidden state into this many contiguous groups. */
export const HIDDEN_GROUP_COUNT = 8;
/** Every attribute is clipped to [-ATTRIBUTE_CLIP, ATTRIBUTE_CLIP]. */
export const ATTRIBUTE_CLIP = 2;
/** Logits are divided by this before they become attributes. */
export const LOGIT_SCALE = 100;
/** Mixtral v0.1 vocabulary ids of the answer tokens read at the last position. */
export const YES_TOKEN_ID = 5592;
export const NO_TOKEN_ID = 1770;

/** Names of the 32 attributes, index = position in the `attributes` array. */
export const ATTRIBUTE_NAMES: readonly string[] = [
    "max_m", "min_m", "mean_m",
    "max_s", "min_s", "mean_s",
    "max_d", "min_d", "mean_d",
    ...Array.from({length: HIDDEN_GROUP_COUNT}, (_, g) => `hidden_mean_g${g}`),
    ...Array.from({length: HIDDEN_GROUP_COUNT}, (_, g) => `hidden_last_g${g}`),
    "last_m_minus_yes", "last_m_minus_no",
    "last_m", "last_s", "last_d",
    "last_yes", "last_no"
];
