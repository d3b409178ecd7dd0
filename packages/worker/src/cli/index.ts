/**
 * The worker's commands alone: `@orchard/worker/cli`, what the `orchard` CLI imports. Their
 * modules hold flags and help texts; each handler imports its implementation when it runs, so
 * node-llama-cpp, BullMQ and the synthetic model's vocabulary load only for the command that uses
 * them, and never in `orchard run` (a coordinator holds no model).
 */
export {extractCommand} from "./commands/extract-command.ts";
export {generateCommand} from "./commands/generate-command.ts";
export {modelCommand} from "./commands/model-command.ts";
export {workerCommand, createWorkerCommand, type WorkerCommandOptions} from "./commands/worker-command.ts";
export {playgroundCommand} from "./commands/playground-command.ts";
export {verifyCommand} from "./commands/verify-command.ts";
