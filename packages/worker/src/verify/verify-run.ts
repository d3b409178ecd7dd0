import {
    connectRedis, documentsWithProvenance, FleetKeys, MAX_MAX_LINE_BYTES, modelFingerprint, OrchardError, readJsonlLines, readRunProvenance, runNumericsOf, runTaskOf,
    type DocumentProvenance, type Logger, type MachineFacts, type NumericsSettings, type PreparedDocument, type RunSpec, type ShardProvenance
} from "@orchard/shared";
import {ExtractionEngine} from "../engine/extraction-engine.ts";
import type {ExtractionEngineOptions} from "../engine/extraction-engine-options.ts";
import {tokenizeDocumentPrompt} from "../extract/prompt-tokenizer.ts";
import {numericsEngineOptions} from "../fleet/engine-switch.ts";
import {SeededRandom} from "../synthetic/seeded-random.ts";

export interface VerifyRunOptions {
    readonly redisUrl: string;
    readonly keyPrefix: string;
    readonly runId: string;
    /** Documents recomputed, at most (those a merged shard holds). */
    readonly sample: number;
    /** Picks the sample: the same seed picks the same documents. Default 1. */
    readonly seed?: number;
    /** This machine's copy of the run's model. Default: the path the run names. Its fingerprint must be the run's. */
    readonly modelPath?: string;
    /** This machine's engine settings (threads, contexts, GPU); the run's numerics replace the rest. */
    readonly engine?: Omit<ExtractionEngineOptions, "modelPath" | "logger">;
    readonly logger?: Logger;
}

/** The documents of one kind of machine (backend and chip) in the sample, and how far their stored attributes lie from this machine's. */
export interface VerifyGroup {
    readonly backend: string;
    readonly chip: string;
    readonly documents: number;
    /** Documents whose 32 attributes this machine computed bit for bit. */
    readonly identical: number;
    /** Largest absolute difference of one attribute over the group's documents. */
    readonly maxDifference: number;
    /** The document and attribute (0-based) where it lies; null when every document is identical. */
    readonly worst: {readonly id: string; readonly attribute: number} | null;
}

export interface VerifyReport {
    readonly runId: string;
    readonly numerics: NumericsSettings;
    /** This machine, which recomputed the sample. */
    readonly machine: MachineFacts;
    readonly sampled: number;
    readonly groups: readonly VerifyGroup[];
}

/**
 * `orchard verify RUN`: recomputes a seeded random sample of a run's merged documents on this
 * machine with the run's numerics and compares them with the attributes in the run's outputs, per
 * kind of machine that computed them: what mixing backends and chips costs on this fleet (0 for
 * documents computed by machines like this one, with the same build). Re-ask runs only (their
 * attributes come from one prompt). Reads the run's inputs and outputs; writes nothing.
 */
export async function verifyRun(options: VerifyRunOptions): Promise<VerifyReport> {
    if (!Number.isInteger(options.sample) || options.sample < 1) throw new OrchardError("INVALID_ARGUMENT", `--sample must be a positive integer (got ${options.sample})`);
    const redis = await connectRedis(options.redisUrl, {name: "orchard-verify", ...(options.logger === undefined ? {} : {logger: options.logger})});
    let run;
    try {
        run = await readRunProvenance(redis, new FleetKeys(options.keyPrefix), options.runId,
            (error) => options.logger?.warn({code: error.code, err: error.message}, "provenance record left out"));
    } finally {
        await redis.quit().catch(() => redis.disconnect());
    }
    const {spec, shards} = run;
    if (runTaskOf(spec).kind !== "reask") throw new OrchardError("INVALID_ARGUMENT", `run ${spec.runId} is a ${runTaskOf(spec).kind} run: verify recomputes re-ask runs only`);
    if (spec.engine.kind !== "llama") throw new OrchardError("INVALID_ARGUMENT", `run ${spec.runId} was computed by the simulated engine: there is nothing to verify`);
    const modelPath = options.modelPath ?? spec.model.path;
    if ((await modelFingerprint(modelPath)).fingerprint !== spec.model.fingerprint)
        throw new OrchardError("INVALID_ARGUMENT", `${modelPath} is not the run's model (another fingerprint): pass --model with this machine's copy of it`);

    const sample = await pickSample(spec, shards, options.sample, options.seed ?? 1);
    const stored = await storedAttributes(spec, new Set(sample.map((entry) => entry.provenance.id)));
    const numerics = runNumericsOf(spec);
    await using engine = await ExtractionEngine.load({...options.engine, ...numericsEngineOptions(numerics), modelPath, ...(options.logger === undefined ? {} : {logger: options.logger})});
    const groups = new Map<string, {backend: string; chip: string; documents: number; identical: number; maxDifference: number; worst: VerifyGroup["worst"]}>();
    for (const {document, provenance} of sample) {
        const attributes = stored.get(provenance.id);
        // a document the output lacks (refused by a worker's verdict): nothing to compare
        if (attributes === undefined) continue;
        const tokens = tokenizeDocumentPrompt(document, spec.prompt.trailingInstruction, (text) => engine.tokenizePrompt(text),
            {contextSize: numerics.contextSize, truncate: spec.truncate, file: provenance.file}).tokens;
        // with the prompt text, so that a run with prefix reuse is recomputed the way its workers computed it
        const computed = await engine.extract(tokens, document.promptText);
        const key = JSON.stringify([provenance.backend ?? "unknown", provenance.chip ?? "unknown"]);
        let group = groups.get(key);
        if (group === undefined) groups.set(key, (group = {backend: provenance.backend ?? "unknown", chip: provenance.chip ?? "unknown", documents: 0, identical: 0, maxDifference: 0, worst: null}));
        group.documents++;
        let largest = 0;
        let at = 0;
        for (const [i, value] of computed.entries()) {
            const difference = Math.abs(value - (attributes[i] ?? Number.NaN));
            if (!(difference <= largest)) [largest, at] = [Number.isNaN(difference) ? Number.POSITIVE_INFINITY : difference, i];
        }
        if (largest === 0) group.identical++;
        else if (largest > group.maxDifference) [group.maxDifference, group.worst] = [largest, {id: provenance.id, attribute: at}];
    }
    return {
        runId: spec.runId, numerics, machine: engine.machine, sampled: sample.length,
        groups: [...groups.values()].sort((a, b) => b.documents - a.documents || a.backend.localeCompare(b.backend) || a.chip.localeCompare(b.chip))
    };
}

/** Up to `size` documents a merged shard holds, uniformly at random (reservoir sampling, seeded), in input order. */
async function pickSample(spec: RunSpec, shards: ReadonlyMap<number, ShardProvenance>, size: number, seed: number): Promise<{order: number; document: PreparedDocument; provenance: DocumentProvenance}[]> {
    const random = SeededRandom.forStream(seed, "verify-sample");
    const chosen: {order: number; document: PreparedDocument; provenance: DocumentProvenance}[] = [];
    let seen = 0;
    for await (const entry of documentsWithProvenance(spec, shards)) {
        if (entry.provenance.worker === null) continue;
        const order = seen++;
        if (chosen.length < size) chosen.push({order, ...entry});
        else {
            const slot = Math.floor(random.nextFloat() * seen);
            if (slot < size) chosen[slot] = {order, ...entry};
        }
    }
    return chosen.sort((a, b) => a.order - b.order);
}

/** The attributes of the documents `ids` in the run's outputs (lines that do not parse as an output line are skipped). */
async function storedAttributes(spec: RunSpec, ids: ReadonlySet<string>): Promise<Map<string, number[]>> {
    const found = new Map<string, number[]>();
    for (const input of spec.inputs) {
        try {
            for await (const line of readJsonlLines(input.output, {maxLineBytes: MAX_MAX_LINE_BYTES})) {
                if (line.text === "") continue;
                const value = safeJson(line.text) as {id?: unknown; attributes?: unknown} | undefined;
                if (typeof value?.id !== "string" || !ids.has(value.id) || !Array.isArray(value.attributes)) continue;
                if (value.attributes.every((item) => typeof item === "number")) found.set(value.id, value.attributes as number[]);
            }
        } catch (error) {
            throw new OrchardError("INVALID_ARGUMENT", `${input.output}: cannot read the run's output: ${(error as Error).message}`, {cause: error});
        }
    }
    return found;
}

function safeJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}
