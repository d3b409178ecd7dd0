export {OrchardError, InputLineError, isOrchardError, type OrchardErrorCode, type OrchardErrorOptions} from "./errors/orchard-error.ts";
export {reportCliError} from "./cli/report-cli-error.ts";
export {pathForDisplay} from "./cli/path-for-display.ts";
export {lastFlagWins} from "./cli/last-flag-wins.ts";
export {assertOutputPath, ensureOutputDirectory, outputPathError} from "./fs/output-location.ts";
export {
    ATTRIBUTE_COUNT, ATTRIBUTE_NAMES, ATTRIBUTE_CLIP, HIDDEN_GROUP_COUNT, LOGIT_SCALE, YES_TOKEN_ID, NO_TOKEN_ID
} from "./attributes/attribute-definitions.ts";
export {computeAttributes, groupMeans, toAttributeValue, type AttributeInputs} from "./attributes/compute-attributes.ts";
export {inputDocumentSchema, type InputDocument} from "./schemas/input-document-schema.ts";
export {pythonStrip, takeCodePoints, codePointLength} from "./text/python-strip.ts";
export {terminalSafe, terminalSafeStrings, type TerminalSafeOptions} from "./text/terminal-text.ts";
export {
    buildReaskPrefix, buildReaskPrompt, effectivePromptText, prepareDocumentText, DEFAULT_MAX_DOCUMENT_CHARS, DEFAULT_PROMPT_TEXT,
    DEFAULT_TRAILING_INSTRUCTION, type PromptSettings
} from "./prompt/reask-prompt.ts";
export {readJsonlLines, type BadJsonlLine, type JsonlLine, type ReadJsonlLinesOptions} from "./jsonl/jsonl-line-reader.ts";
export {DEFAULT_MAX_LINE_BYTES, MAX_MAX_LINE_BYTES, resolveMaxLineBytes} from "./jsonl/max-line-bytes.ts";
export {readDataset, loadDataset, InputValidationError, MAX_REPORTED_INPUT_ERRORS, type ReadDatasetOptions} from "./dataset/dataset-reader.ts";
export type {PreparedDocument} from "./dataset/prepared-document.ts";
export {formatOutputLine, maxOutputLineBytes} from "./dataset/output-line.ts";
export {createLogger, LOG_LEVELS, type Logger, type LoggerOptions} from "./logging/create-logger.ts";
export * from "./gguf/gguf-types.ts";
export {GLOBAL_CLI_OPTIONS, prettyLogsFor, type GlobalCliOptions} from "./cli/global-options.ts";
export {
    writeGguf, planGguf, ggufString, ggufBool, ggufUint32, ggufInt32, ggufFloat32, ggufArray,
    type GgufTensorSource, type GgufWriteOptions, type GgufPlan
} from "./gguf/gguf-writer.ts";
export {readGgufHeader, readGgufTensor, GgufReader, dequantizeGgml, type GgufHeader} from "./gguf/gguf-reader.ts";
export {
    float32ToFloat16Bits, float16BitsToFloat32, encodeF32, encodeF16, encodeQ8_0, encodeGgmlValues, encodedByteLength
} from "./gguf/ggml-quantize.ts";
export type {DatasetStart} from "./dataset/dataset-reader.ts";
export {resolvePromptSettings, type PromptOptions} from "./prompt/resolve-prompt-settings.ts";
export {PROMPT_FLAGS, promptOptionsFromArgs, type PromptFlagValues} from "./cli/prompt-flags.ts";
export {INPUT_FLAGS, type InputFlagValues} from "./cli/input-flags.ts";
export {modelFingerprint, simulatedEngineFingerprint, type ModelFingerprint} from "./gguf/model-fingerprint.ts";
export {readOrchardEnvironment, type OrchardEnvironment} from "./config/orchard-environment.ts";
export {readRedisUrlFile, checkRedisUrl} from "./config/redis-url-file.ts";
export * from "./fleet/fleet-defaults.ts";
export {
    DEFAULT_KEY_PREFIX, FleetKeys, shardQueueName, shardJobId, embeddedRedisEndpointPath, sha256Json, redactRedisUrl
} from "./fleet/fleet-keys.ts";
export * from "./fleet/fleet-schemas.ts";
export {formatByteSize} from "./text/format-byte-size.ts";
export {modelDigestRecordSchema, modelSourceSchema, sha256HexSchema, type ModelSource} from "./fleet/model-source-schema.ts";
export {TASK_KIND_NAMES, type CompanionOutput, type TaskKind, type TaskKindName} from "./task/task-kind.ts";
export {REASK_TASK, reaskResultSchema, reaskSettingsSchema, type ReaskResult, type ReaskSettings} from "./task/reask-task.ts";
export {CURRENT_OUTPUT_NAMING, namedOutputFile, outputNamingOf, type OutputNaming} from "./task/output-naming.ts";
export {CLASSIFY_TASK, classifySettingsSchema, classifyTaskResultSchema, labelSetOf, type ClassifyTaskSettings} from "./task/classify-task.ts";
export {taskKind, runTaskSchema, runTaskOf, DEFAULT_RUN_TASK, inputLineReaderOf, type RunTask} from "./task/task-kinds.ts";
export type {InputLineReader} from "./task/task-kind.ts";
export {
    GENERATE_TASK, generateSettingsSchema, generateResultSchema, generationSamplingSchema, valueSourceSchema, messageSourceOf, generateLineReader, maxGeneratedLineBytes,
    type GenerateSettings, type GenerateResult
} from "./generate/generate-task.ts";
export {
    GENERATE_OUTPUT_FORMATS, GENERATED_FIELDS, parseValueSource, formatGeneratedLine, formatReexpressLine, formatGenerateOutputLine, pickValue, generateMessageOf,
    type GenerateOutputFormat, type ValueSource, type GeneratedFields, type GenerateLineSource, type GenerateOutput, type MessageSource
} from "./generate/generate-output-line.ts";
export {
    documentSeed, completionSampling, resolveGenerationSampling, DEFAULT_GENERATION_SAMPLING, type GenerationSamplingOptions, type ResolvedGenerationSampling
} from "./generate/generation-settings.ts";
export {PromptTemplate} from "./generate/prompt-template.ts";
export {readJsonSchemaFile} from "./generate/json-schema-file.ts";
export {resolveGenerationTask, type GenerationTaskOptions, type ResolvedGenerationTask} from "./generate/generation-task-options.ts";
export {SAMPLING_FLAGS, GENERATION_FLAGS, type GenerationFlagValues} from "./cli/generation-flags.ts";
export {FAILURE_CODES, UNKNOWN_FAILURE_CODE, failureCodeSchema, isFailureCode, toFailureCode, type FailureCode} from "./fleet/failure-codes.ts";
export {encodeShardJobFailure, readShardJobFailure, shardJobFailureSchema, type ShardJobFailure} from "./fleet/shard-job-failure.ts";
export {readLiveEmbeddedRedisEndpoint, embeddedRedisUrl, isProcessAlive} from "./fleet/embedded-redis-endpoint.ts";
export {openPrivateStateDir, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE} from "./fleet/private-state-dir.ts";
export {FLEET_CONNECTION_FLAGS, type FleetConnectionFlagValues} from "./cli/fleet-connection-flags.ts";
export * from "./monitor/monitor-defaults.ts";
export {MonitorKeys, RUN_WORKER_COUNTERS, runWorkerField, type RunWorkerCounter} from "./monitor/monitor-keys.ts";
export {rollingRate, busyTokensPerSecond, overlapShare, type WorkSample, type RollingRate, type RollingRateOptions} from "./monitor/rolling-rate.ts";
export {workerHeartbeatSchema, heartbeatShardSchema, HEARTBEAT_STATES, type WorkerHeartbeat, type HeartbeatShard} from "./monitor/heartbeat-schema.ts";
export {
    fleetStatusSchema, runStatusSchema, runMachineSchema, type RunMachine, workerStatusSchema, runWorkerSchema, failedShardSchema, inputProgressSchema, currentShardSchema,
    workerStateSchema, WORKER_STATES, HEALTH_LEVELS, type FleetStatus, type RunStatusReport, type WorkerStatus, type RunWorker, type FailedShard, type WorkerState
} from "./monitor/status-schema.ts";
export {connectRedis, closeRedis} from "./fleet/redis-connection.ts";
export {settleWithin} from "./fleet/settle-within.ts";
export {isSameFile} from "./fs/same-file.ts";
export {readLabelSet, labelLineSchema, type LabelEntry, type LabelSet} from "./classify/label-set.ts";
export {
    assertLabelPromptTemplate, assertLabelTrailingInstruction, buildLabelPrompt, DEFAULT_LABEL_PROMPT, labelAnswerText, substituteLabel
} from "./classify/classify-prompt.ts";
export {classifyResultSchema, formatPredictionLine, parsePredictionLine, type ClassifyResult} from "./classify/prediction-line.ts";
export {isLoopbackHost, hostOfHostHeader} from "./http/loopback-host.ts";
export {TokenAttemptLimiter, type TokenAttemptLimitOptions} from "./http/token-attempt-limiter.ts";
export {localWebAuth, ACTION_HEADER, type LocalWebAuthOptions, type LocalWebMiddleware} from "./http/local-web-auth.ts";
export {resolveWebToken, type WebTokenSources} from "./http/web-token.ts";
export {resolveWebListen, webServerFlags, type WebListenSettings} from "./http/web-listen.ts";
export {reaskRequestSchema, DEFAULT_REASK_ID, DEFAULT_REASK_LABEL, type ReaskRequest, type ReaskResponse} from "./playground/reask-request-schema.ts";
export {chatRequestSchema, MAX_CHAT_NEW_TOKENS, type ChatRequest} from "./playground/chat-request-schema.ts";
export {
    FLEET_SERVICE_TYPE, ORCHARD_VERSION, encodeFleetTxt, decodeDiscoveredFleet, fleetInstanceName, type FleetAdvertisement, type DiscoveredFleet, type BrowsedService
} from "./discovery/fleet-advertisement.ts";
export {FleetAdvertiser, type FleetAdvertiserOptions} from "./discovery/fleet-advertiser.ts";
export {browseFleets, DEFAULT_BROWSE_MS, type BrowseFleetsOptions, type BrowseResult} from "./discovery/fleet-browser.ts";
export {
    numericsSettingsSchema, resolveNumericsSettings, runNumericsOf, numericsDifference, describeNumerics, numericsExtractFlags,
    DEFAULT_NUMERICS, LEGACY_NUMERICS, PINNED_ENGINE_ROUTES, PREFIX_REUSE_MODES, type PrefixReuse, MAX_NUMERICS_BATCH_SIZE, MAX_NUMERICS_CONTEXT_SIZE,
    type NumericsSettings, type NumericsOptions, type PinnedEngineRoute
} from "./numerics/numerics-settings.ts";
export {
    machineFactsSchema, machineRequirementSchema, machineRefusal, MACHINE_BACKENDS, type MachineFacts, type MachineRequirement, type MachineBackend
} from "./numerics/machine-facts.ts";
export {readRunProvenance, parseShardProvenance, documentProvenance, documentsWithProvenance, type DocumentProvenance} from "./numerics/document-provenance.ts";
