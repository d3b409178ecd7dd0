import assert from "node:assert/strict";
import {mkdtemp, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {getLlama, type Llama, type LlamaModel} from "node-llama-cpp";
import {ensureSyntheticModel} from "./ensure-synthetic-model.ts";
import {LlamaTokenType, loadMistralTokenizer, loadMistralVocabulary} from "./mistral-vocabulary.ts";

describe("loadMistralVocabulary", () => {
    it("holds the 32,000 Mistral pieces with llama token types", async () => {
        const vocabulary = await loadMistralVocabulary();
        assert.equal(vocabulary.tokens.length, 32000);
        assert.equal(vocabulary.scores.length, 32000);
        assert.equal(vocabulary.tokenTypes.length, 32000);
        assert.equal(vocabulary.mergeCount, 58980);
        assert.deepEqual(vocabulary.tokens.slice(0, 4), ["<unk>", "<s>", "</s>", "<0x00>"]);
        assert.deepEqual(vocabulary.tokenTypes.slice(0, 4), [LlamaTokenType.UNKNOWN, LlamaTokenType.CONTROL, LlamaTokenType.CONTROL, LlamaTokenType.BYTE]);
        assert.equal(vocabulary.tokenTypes.filter((t) => t === LlamaTokenType.BYTE).length, 256);
        assert.equal(vocabulary.tokens[5592], "▁Yes");
        assert.equal(vocabulary.tokens[1770], "▁No");
    });

    it("scores pieces by the rank of the first merge producing them", async () => {
        const {tokens, scores} = await loadMistralVocabulary();
        const score = (piece: string): number => scores[tokens.indexOf(piece)]!;
        assert.equal(score("▁t"), 0); // the first merge
        assert.equal(score("in"), -1);
        assert.ok(score("▁the") > score("▁Harbor"));
        // whitespace runs merge last, as in the original SentencePiece scores
        assert.ok(score("▁▁") < score("▁Harbor"));
        // single characters rank below every merge; they are never merge results
        assert.ok(score("e") < -58979);
        assert.ok(scores.every(Number.isFinite));
    });
});

describe("llama.cpp tokenization of a synthetic model", () => {
    let dir = "";
    let llama: Llama;
    let model: LlamaModel;

    before(async () => {
        dir = await mkdtemp(join(tmpdir(), "orchard-vocabulary-"));
        const modelPath = await ensureSyntheticModel({preset: "tiny", type: "f32", seed: 1, dir});
        llama = await getLlama({gpu: false, build: "never"});
        model = await llama.loadModel({modelPath});
    });
    after(async () => {
        await model?.dispose();
        await llama?.dispose();
        await rm(dir, {recursive: true, force: true});
    });

    it("tokenizes the answer words as the attributes expect", () => {
        // SPM prefixes the text with a space, so "Yes" is the piece "▁Yes"; no BOS is added
        assert.deepEqual(model.tokenize("Yes"), [5592]);
        assert.deepEqual(model.tokenize("No"), [1770]);
        assert.equal(model.tokens.bos, 1);
        assert.equal(model.tokens.eos, 2);
    });

    it("gives the same ids as mistral-tokenizer-js", async () => {
        const tokenizer = await loadMistralTokenizer();
        const snippets = [
            "Hello world!", "grabbed", " grabbed", "           grabbed", "\n", " \n", "\ttabs\t\t\t\tout here",
            "ax\n####\nboo", "镇", "🦙Ꙋ", "The llama (/ˈlɑːmə/; 🦙Spanish pronunciation: [ˈʎama]) is a camelid.",
            "3.14159265358979 + 2,718 = 5.859; 1234567890", "def f(x):\n    return {\"a\": [1, 2, 3]}  # comment\n",
            "function add(a, b) { return a + b; }\n\n\nconsole.log(add(1,2));",
            "Café naïve résumé façade — «quoted» “smart” ‘quotes’", "日本語のテキストと中文文本, 한국어 텍스트",
            "Привет, мир! Γειά σου Κόσμε", "x    y        z", "   leading and trailing   ",
            "<s> literal tags </s> and <unk>", "<0x0A> byte-looking text", "Question: Is the sky blue?\nAnswer:",
            "e=mc² ∑∫√∞ ≠ ≤ ≥ ±", "https://example.com/path?query=1&b=2#frag", "\r\nWindows\r\nendings",
            "a\u00a0non-breaking\u200bzero-width", "😀 👍🏽 🇫🇷", "SELECT * FROM users WHERE id = 42;"
        ];
        for (const text of snippets) {
            // like with like: no BOS on either side; both prefix one space (SPM's add_space_prefix)
            assert.deepEqual(model.tokenize(text), tokenizer.encode(text, false, true), JSON.stringify(text));
        }
    });
});
