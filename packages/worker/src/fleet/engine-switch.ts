import {describeNumerics, numericsDifference, OrchardError, type NumericsSettings} from "@orchard/shared";
import type {ExtractionEngineOptions} from "../engine/extraction-engine-options.ts";
import type {ShardEngine} from "./shard-engine.ts";

/** Loads the worker's engine: with a run's numerics over the worker's own options, or with its own (undefined). */
export type NumericsEngineLoader = (numerics: NumericsSettings | undefined) => Promise<ShardEngine>;

/** The engine options that give an engine a run's numerics (the rest, threads, contexts, GPU, stay the worker's). */
export function numericsEngineOptions(numerics: NumericsSettings): Pick<ExtractionEngineOptions, "batchSize" | "route" | "flashAttention" | "contextSize" | "prefixReuse"> {
    return {batchSize: numerics.batchSize, route: numerics.engineRoute, flashAttention: numerics.flashAttention, contextSize: numerics.contextSize, prefixReuse: numerics.prefixReuse};
}

/** An engine for a shard (release it when the shard's documents are done), or why this worker cannot compute the run's numerics. */
export type EngineLease =
    | {readonly kind: "engine"; readonly engine: ShardEngine; readonly release: () => void}
    | {readonly kind: "refused"; readonly reason: string};

/**
 * A fleet worker's engine, recreated when a shard's run needs other numerics than the loaded one
 * computes with: a worker never computes a run's shard with its own settings. Shards of the loaded
 * settings share it (leases); a shard that needs others waits until the leases in hand are returned,
 * then the engine is closed and loaded again with the run's settings (on the same machine, model
 * pages stay in the OS cache, so a reload costs seconds, once per change of run). Settings this
 * machine cannot compute (the one-pass route without node-llama-cpp's internals) are remembered and
 * refused at once. Switches, unloads and loads run one at a time, in the order asked.
 */
export class EngineSwitch {
    readonly #load: NumericsEngineLoader;
    #engine: ShardEngine | undefined;
    /** What the loaded (or last loaded) engine was asked for: reloaded with it after an unload. */
    #numerics: NumericsSettings | undefined;
    #leases = 0;
    #drained: (() => void)[] = [];
    #serial: Promise<unknown> = Promise.resolve();
    /** Settings (as JSON) this machine cannot compute, with the reason. */
    readonly #refused = new Map<string, string>();

    public constructor(load: NumericsEngineLoader, engine: ShardEngine | undefined) {
        this.#load = load;
        this.#engine = engine;
    }

    /** The loaded engine, if any (undefined while unloaded or after a failed load). */
    public get engine(): ShardEngine | undefined {
        return this.#engine;
    }

    /** An engine that computes with `numerics` (undefined: a shard of an older coordinator, computed with whatever is loaded). */
    public acquire(numerics: NumericsSettings | undefined): Promise<EngineLease> {
        return this.#serially(async () => {
            const key = numerics === undefined ? undefined : JSON.stringify(numerics);
            const refused = key === undefined ? undefined : this.#refused.get(key);
            if (refused !== undefined) return {kind: "refused", reason: refused};
            if (this.#engine !== undefined && fits(this.#engine, numerics)) return this.#lease(this.#engine);
            await this.#unloadWhenDrained();
            let engine: ShardEngine;
            try {
                engine = await this.#load(numerics ?? this.#numerics);
            } catch (error) {
                if (!(error instanceof OrchardError && error.code === "ENGINE_UNSUPPORTED") || key === undefined) throw error;
                const reason = `this worker cannot compute the run's numerics (${describeNumerics(numerics as NumericsSettings)}): ${error.message}`;
                this.#refused.set(key, reason);
                return {kind: "refused", reason};
            }
            this.#engine = engine;
            this.#numerics = numerics ?? this.#numerics;
            if (!fits(engine, numerics)) {
                // an engine that resolves the settings otherwise (a batch cut to another context): never compute with it
                const reason = `this worker's engine computes with ${describeNumerics(engine.numerics as NumericsSettings)}, not the run's ${describeNumerics(numerics as NumericsSettings)}`;
                this.#refused.set(key as string, reason);
                return {kind: "refused", reason};
            }
            return this.#lease(engine);
        });
    }

    /** Closes the engine once its leases are returned (a paused worker frees the model's memory). */
    public unload(): Promise<void> {
        return this.#serially(() => this.#unloadWhenDrained());
    }

    /** Loads the engine again (with the settings it last had) if it is not loaded. */
    public reload(): Promise<void> {
        return this.#serially(async () => {
            this.#engine ??= await this.#load(this.#numerics);
        });
    }

    #lease(engine: ShardEngine): EngineLease {
        this.#leases++;
        let released = false;
        return {
            kind: "engine", engine, release: () => {
                if (released) return;
                released = true;
                this.#leases--;
                if (this.#leases === 0) for (const resolve of this.#drained.splice(0)) resolve();
            }
        };
    }

    async #unloadWhenDrained(): Promise<void> {
        if (this.#leases > 0) await new Promise<void>((resolve) => this.#drained.push(resolve));
        const engine = this.#engine;
        this.#engine = undefined;
        await engine?.close();
    }

    #serially<T>(step: () => Promise<T>): Promise<T> {
        const next = this.#serial.then(step);
        // a failed step is its caller's to report; the next one still runs
        this.#serial = next.catch(() => undefined);
        return next;
    }
}

/** Whether `engine` computes `numerics`' bits: the simulated engine (no numerics) and an older coordinator's shard (none asked) fit any. */
function fits(engine: ShardEngine, numerics: NumericsSettings | undefined): boolean {
    return numerics === undefined || engine.numerics === undefined || numericsDifference(engine.numerics, numerics) === undefined;
}
