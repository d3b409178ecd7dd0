import type {Logger} from "@orchard/shared";
import type {ExtractionEngineOptions} from "../engine/extraction-engine-options.ts";
import {LlamaShardEngine} from "./llama-shard-engine.ts";
import type {ShardEngine} from "./shard-engine.ts";
import {SimulatedShardEngine} from "./simulated-shard-engine.ts";

/** What a fleet worker knows when it builds its engine (its resolved options). */
export interface ShardEngineInit {
    readonly modelPath: string;
    /** Engine settings other than the model path (threads, contexts, context size, GPU...). */
    readonly engine: Omit<ExtractionEngineOptions, "modelPath" | "logger">;
    /** Fake inference at this speed instead of the model (tests and benchmarks). */
    readonly simulatedEngine: {readonly tokensPerSecond: number} | undefined;
    readonly logger: Logger | undefined;
}

/**
 * Builds a fleet worker's engine. The worker library takes one as an option (default
 * createShardEngine): a test that needs an engine which fails on some documents or runs slowly wraps
 * the real one in its own factory (test/support/fault-engine.ts), so production code carries no test
 * branches.
 */
export type ShardEngineFactory = (init: ShardEngineInit) => Promise<ShardEngine>;

/** The engine a worker runs: node-llama-cpp on the model, or the simulated one when asked for. */
export const createShardEngine: ShardEngineFactory = async (init) => init.simulatedEngine === undefined
    ? LlamaShardEngine.load({...init.engine, modelPath: init.modelPath, ...(init.logger === undefined ? {} : {logger: init.logger})})
    : new SimulatedShardEngine({tokensPerSecond: init.simulatedEngine.tokensPerSecond, ...(init.engine.contextSize === undefined ? {} : {contextSize: init.engine.contextSize})});
