/**
 * Types for mistral-tokenizer-js 1.0.0, which ships plain JavaScript only. Covers what Orchard
 * uses: the vocabulary by id, the merge table and encode.
 */
declare module "mistral-tokenizer-js" {
    interface MistralTokenizer {
        /**
         * Token ids of `text`. By default prepends BOS (id 1) and a space, as the original
         * SentencePiece tokenizer does at the start of a text.
         */
        encode(text: string, addBosToken?: boolean, addPrecedingSpace?: boolean, logPerformance?: boolean): number[];
        decode(tokenIds: readonly number[], addBosToken?: boolean, addPrecedingSpace?: boolean): string;
        /** The 32,000 pieces, index = token id; spaces appear as "▁", bytes as "<0xNN>". */
        readonly vocabById: readonly string[];
        readonly vocabByString: ReadonlyMap<string, number>;
        /**
         * Merges keyed "left right" (the two pieces joined by a space); the value is 2 * rank + 1,
         * rank being the merge's 0-based position in the ordered merge list.
         */
        readonly merges: ReadonlyMap<string, number>;
    }
    const mistralTokenizer: MistralTokenizer;
    export default mistralTokenizer;
}
