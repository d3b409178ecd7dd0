export {runCoordinator, resumeRun, retryFailedRun, type ResumeOptions} from "./run/run-coordinator.ts";
export {classifyRunTask, type ClassifyRunTaskOptions} from "./run/classify-run-task.ts";
export {generateRunTask, type GenerateRunTaskOptions} from "./run/generate-run-task.ts";
export {outputPaths} from "./run/run-outputs.ts";
export {cancelRun, type CancelOutcome} from "./run/cancel-run.ts";
export {writeRunProvenance} from "./run/run-provenance.ts";
export {
    resolveRunOptions, resolveFleetSessionOptions, type RunOptions, type FleetSessionOptions, type ResolvedRunOptions, type ResolvedFleetSessionOptions
} from "./run/coordinator-options.ts";
export type {CoordinatorEvent, RunSummary, MissingDocument} from "./run/coordinator-events.ts";
export {EmbeddedRedis, type EmbeddedRedisOptions} from "./redis/embedded-redis.ts";
export {ShardPlan, layoutInput, type PlannedShard} from "./run/shard-plan.ts";
export {ServedModel, type ServeModelOptions} from "./model-server/served-model.ts";
export {ModelServer, type ModelServerOptions} from "./model-server/model-server.ts";
export {OrderedMerger, type MergeCursor} from "./run/ordered-merger.ts";
export {runCommand} from "./cli/commands/run-command.ts";
export {resumeCommand} from "./cli/commands/resume-command.ts";
export {retryFailedCommand} from "./cli/commands/retry-failed-command.ts";
export {cancelCommand} from "./cli/commands/cancel-command.ts";
export {statusCommand} from "./cli/commands/status-command.ts";
export {dashboardCommand} from "./cli/commands/dashboard-command.ts";
export {StatusCollector, type StatusCollectorOptions} from "./monitor/status-collector.ts";
export {DashboardServer} from "./monitor/dashboard/dashboard-server.ts";
export {resolveDashboardOptions, type DashboardServerOptions, type ResolvedDashboardOptions} from "./monitor/dashboard/dashboard-options.ts";
export type {TokenAttemptLimitOptions} from "@orchard/shared";
export {renderFleetStatus, renderRunDetail, renderLiveView, renderRunLine} from "./monitor/terminal/status-text.ts";
export {throughputSeries, type ThroughputSeries, type ThroughputSample} from "./monitor/status/throughput-series.ts";
