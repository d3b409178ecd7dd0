/**
 * The coordinator's commands alone: `@orchard/coordinator/cli`, what the `orchard` CLI imports.
 * Their modules hold flags and help texts; each handler imports its implementation when it runs,
 * so every command's startup loads no coordinator machinery (BullMQ, the dashboard's express,
 * bull-board and prom-client) it does not use, and `orchard worker` loads none at all.
 */
export {runCommand} from "./commands/run-command.ts";
export {resumeCommand} from "./commands/resume-command.ts";
export {retryFailedCommand} from "./commands/retry-failed-command.ts";
export {cancelCommand} from "./commands/cancel-command.ts";
export {statusCommand} from "./commands/status-command.ts";
export {provenanceCommand} from "./commands/provenance-command.ts";
export {dashboardCommand} from "./commands/dashboard-command.ts";
export {serveModelCommand} from "./commands/serve-model-command.ts";
