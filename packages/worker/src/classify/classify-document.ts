import {
    buildLabelPrompt, classifyResultSchema, labelAnswerText, OrchardError, substituteLabel, type ClassifyResult, type LabelEntry, type PreparedDocument
} from "@orchard/shared";
import {fitDocumentPrompt, tokenizeDocumentPrompt, type TokenizedPrompt} from "../extract/prompt-tokenizer.ts";
import type {ClassifySettings} from "./classify-settings.ts";

/** What the prompts of a classify task need from the loaded model (an ExtractionEngine has it all). */
export interface ClassifyTokenizer {
    /** BOS followed by the tokens of `text`. */
    tokenizePrompt(text: string): number[];
    readonly eosToken: number;
    readonly options: {readonly contextSize: number};
}

/** What `classifyDocument` needs from the loaded model. */
export interface ClassifyEngine extends ClassifyTokenizer {
    scoreContinuations(prefix: readonly number[], continuations: readonly (readonly number[])[]): Promise<number[]>;
    extract(tokens: readonly number[]): Promise<number[]>;
}

/** Stage 1 of one document, tokenized: the shared prompt tokens and each label's answer tokens after them. */
export interface LabelChoicePrompt {
    /** BOS, the label prompt, and whatever tokens every label's answer starts with. */
    readonly prefix: number[];
    /** Per label (in LabelSet order): the rest of `[/INST] <name></s>` after `prefix`. */
    readonly continuations: number[][];
    readonly truncated: boolean;
}

export interface ClassifiedDocument {
    readonly result: ClassifyResult;
    /** Prompt tokens of both stages (label prompt once, answers, re-ask). */
    readonly tokens: number;
    /** Whether either prompt had its document cut (--truncate). */
    readonly truncated: boolean;
}

/**
 * A classify task's computation of one document on a loaded engine (the same for `orchard
 * extract --task classify` and a fleet worker):
 *
 * 1. Stage 1 scores every label's answer `[/INST] <name></s>` by teacher forcing after the label
 *    prompt: log P(answer) is the sum of its tokens' log-softmax over the whole vocabulary. The
 *    label-choice probabilities are those answer probabilities normalised over the labels
 *    (softmax of the log-probabilities); the prediction is the most probable label (the lowest
 *    label on an exact tie). The closing EOS makes a name that is a prefix of another ("good" and
 *    "good enough") a complete answer of its own, never a free share of the longer one.
 * 2. Stage 2 is the re-ask with `{label_name}`/`{label}` of the prediction substituted in the
 *    trailing instruction: exactly the prompt, and so the attributes, of `orchard extract` with
 *    that trailing instruction.
 */
export async function classifyDocument(engine: ClassifyEngine, settings: ClassifySettings, prepared: PreparedDocument): Promise<ClassifiedDocument> {
    const choice = labelChoicePrompt(engine, settings, prepared);
    const logProbabilities = await engine.scoreContinuations(choice.prefix, choice.continuations);
    const probabilities = normalise(logProbabilities);
    let best = 0;
    for (let i = 1; i < probabilities.length; i++) if ((probabilities[i] as number) > (probabilities[best] as number)) best = i;
    const entry = settings.labelSet.labels[best] as LabelEntry;
    const reask = reaskPrompt(engine, settings, prepared, entry);
    const attributes = await engine.extract(reask.tokens);
    const parsed = classifyResultSchema.safeParse({predictedLabel: entry.label, predictedName: entry.name, probabilities, attributes});
    if (!parsed.success)
        throw new OrchardError("ENGINE_FAILED", `document "${prepared.doc.id}": the classify result is not valid (${parsed.error.issues.map((issue) => issue.message).join("; ")})`);
    const answerTokens = choice.continuations.reduce((sum, continuation) => sum + continuation.length, 0);
    return {result: parsed.data, tokens: choice.prefix.length + answerTokens + reask.tokens.length, truncated: choice.truncated || reask.truncated};
}

/**
 * Tokenizes both stages of a document for every label, so a document whose prompts do not fit
 * the context (whichever label stage 1 picks) is found before anything runs. Returns the prompt
 * tokens stage 1 evaluates; throws DOCUMENT_TOO_LONG naming the file and line.
 */
export function checkClassifyPrompts(tokenizer: ClassifyTokenizer, settings: ClassifySettings, prepared: PreparedDocument): number {
    const choice = labelChoicePrompt(tokenizer, settings, prepared);
    for (const entry of settings.labelSet.labels) reaskPrompt(tokenizer, settings, prepared, entry);
    return choice.prefix.length;
}

/** Stage 1's tokens; fits the prompt with the longest answer into the context (cutting the document with --truncate). */
export function labelChoicePrompt(tokenizer: ClassifyTokenizer, settings: ClassifySettings, prepared: PreparedDocument): LabelChoicePrompt {
    const {labels} = settings.labelSet;
    const answersFor = (documentText: string) => {
        const prompt = buildLabelPrompt(settings.labelPrompt, prepared.promptText, documentText, labels);
        // the prompt and answer are tokenized as one text, as the model would read the conversation
        return labels.map((entry) => [...tokenizer.tokenizePrompt(prompt + labelAnswerText(entry)), tokenizer.eosToken]);
    };
    const longest = (answers: number[][]) => answers.reduce((a, b) => (b.length > a.length ? b : a));
    const fitted: TokenizedPrompt = fitDocumentPrompt(prepared, (documentText) => longest(answersFor(documentText)),
        {contextSize: tokenizer.options.contextSize, truncate: settings.truncate, file: settings.inputFile});
    const answers = answersFor(fitted.documentText);
    const shared = commonPrefixLength(answers);
    const first = answers[0] as number[];
    if (answers.some((answer) => answer.length === shared))
        throw new OrchardError("INVALID_ARGUMENT", `${settings.labelSet.file}: two label names give the same tokens, so the model cannot tell them apart`);
    return {prefix: first.slice(0, shared), continuations: answers.map((answer) => answer.slice(shared)), truncated: fitted.truncated};
}

/** Stage 2's tokens for a label: the re-ask of `orchard extract` with the label substituted in the trailing instruction. */
export function reaskPrompt(tokenizer: ClassifyTokenizer, settings: ClassifySettings, prepared: PreparedDocument, entry: LabelEntry): TokenizedPrompt {
    return tokenizeDocumentPrompt(prepared, substituteLabel(settings.prompt.trailingInstruction, entry), (text) => tokenizer.tokenizePrompt(text),
        {contextSize: tokenizer.options.contextSize, truncate: settings.truncate, file: settings.inputFile});
}

function commonPrefixLength(sequences: readonly (readonly number[])[]): number {
    const first = sequences[0] as readonly number[];
    let length = 0;
    while (length < first.length && sequences.every((sequence) => sequence[length] === first[length])) length++;
    return length;
}

/** exp(l_i) / sum_j exp(l_j), max-shifted so that very negative log-probabilities do not underflow to 0/0. */
function normalise(logProbabilities: readonly number[]): number[] {
    const max = Math.max(...logProbabilities);
    const weights = logProbabilities.map((value) => Math.exp(value - max));
    const sum = weights.reduce((a, b) => a + b, 0);
    return weights.map((weight) => weight / sum);
}
