export {ExtractionEngine, type PrefixReuseCounts} from "./engine/extraction-engine.ts";
export {TOP_TWO_REQUEST} from "./engine/evaluation-requests.ts";
export {
    resolveExtractionEngineOptions, DEFAULT_BATCH_SIZE, DEFAULT_CONTEXT_SIZE, DEFAULT_ENGINE_CONTEXTS,
    type ExtractionEngineOptions, type ResolvedExtractionEngineOptions, type EngineRoute, type EngineGpu, type PrefixReuse, PREFIX_REUSE_MODES
} from "./engine/extraction-engine-options.ts";
export {runExtract, type ExtractHooks, type ExtractProgress, type ExtractSummary} from "./extract/extract-job.ts";
export {resolveExtractOptions, resolvePromptSettings, type ExtractOptions, type ResolvedExtractOptions} from "./extract/extract-options.ts";
export {tokenizeDocumentPrompt, type TokenizedPrompt} from "./extract/prompt-tokenizer.ts";
export {extractCommand, PROMPT_FLAGS, ENGINE_FLAGS, CLASSIFY_FLAGS, engineOptionsFromArgs} from "./cli/commands/extract-command.ts";
export {modelCommand} from "./cli/commands/model-command.ts";
export {generateCommand} from "./cli/commands/generate-command.ts";
export {runGenerate, incompleteGenerationError, type GenerateFailure, type GenerateHooks, type GenerateSummary} from "./generate/generate-job.ts";
export {resolveGenerateOptions, type GenerateOptions, type ResolvedGenerateOptions} from "./generate/generate-options.ts";
export {
    DocumentGenerator, GENERATION_FAILURE_CODES, type DocumentGeneratorOptions, type GeneratedDocument, type GenerationFailureCode, type GenerationFinish,
    type GenerationRequest
} from "./generate/document-generator.ts";
export {GenerationEngine, type GenerationEngineOptions} from "./generate/generation-engine.ts";
export {MIXTRAL_INSTRUCT_CHAT_TEMPLATE} from "./synthetic/mixtral-chat-template.ts";
export {ensureSyntheticModel, syntheticModelFileName, type EnsureSyntheticModelOptions} from "./synthetic/ensure-synthetic-model.ts";
export {synthesizeModel} from "./synthetic/synthesize-model.ts";
export {MODEL_PRESETS, MODEL_PRESET_NAMES, MODEL_WEIGHT_TYPES, type ModelPresetName, type ModelWeightType} from "./synthetic/model-presets.ts";
export {FleetWorker, startFleetWorker, type FleetWorkerStats} from "./fleet/fleet-worker.ts";
export {ShardWakeLock, spawnWakeLockRunner, type ShardWakeLockOptions, type WakeLockRunner, type WakeLockProcess} from "./fleet/shard-wake-lock.ts";
export {resolveFleetWorkerOptions, type FleetWorkerOptions, type ResolvedFleetWorkerOptions, type ShardEvent} from "./fleet/fleet-worker-options.ts";
export {SimulatedShardEngine, simulatedAttributes, type SimulatedShardEngineOptions} from "./fleet/simulated-shard-engine.ts";
export {processShard, type ShardOutcome} from "./fleet/shard-processor.ts";
export type {ShardEngine} from "./fleet/shard-engine.ts";
export {createShardEngine, type ShardEngineFactory, type ShardEngineInit} from "./fleet/shard-engine-factory.ts";
export {workerCommand} from "./cli/commands/worker-command.ts";
export {renderLaunchAgent} from "./service/render-launch-agent.ts";
export {renderLaunchdExample} from "./service/launchd-example.ts";
export {renderSystemdUnit} from "./service/render-systemd-unit.ts";
export {nodeFlagsFromShebang, workerServiceProgram} from "./service/worker-service-program.ts";
export type {ServicePlatform, WorkerServiceSpec, ServiceCommandRunner} from "./service/types.ts";
export {runClassify, type ClassifySummary} from "./classify/classify-job.ts";
export {predictionsPathFor, type ClassifyJobOptions} from "./classify/classify-job-options.ts";
export {classifyDocument, checkClassifyPrompts, labelChoicePrompt, reaskPrompt, type ClassifiedDocument, type ClassifyEngine, type ClassifyTokenizer, type LabelChoicePrompt} from "./classify/classify-document.ts";
export {resolveClassifySettings, type ClassifySettings} from "./classify/classify-settings.ts";
export {PlaygroundServer, type PlaygroundServerOptions} from "./playground/playground-server.ts";
export {reask, yesProbability, type ReaskEngine} from "./playground/reask-service.ts";
export {playgroundCommand} from "./cli/commands/playground-command.ts";
export {EngineSwitch, numericsEngineOptions, type EngineLease, type NumericsEngineLoader} from "./fleet/engine-switch.ts";
export {verifyRun, type VerifyRunOptions, type VerifyReport, type VerifyGroup} from "./verify/verify-run.ts";
export {downloadModel, cachedModelPath, systemFreeDiskBytes, type DownloadModelOptions, type FreeDiskBytes} from "./model-cache/model-download.ts";
export {fleetModel, type FleetModelOptions} from "./model-cache/fleet-model.ts";
