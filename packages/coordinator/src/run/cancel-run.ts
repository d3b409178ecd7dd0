import {FleetKeys, OrchardError} from "@orchard/shared";
import {Queue} from "bullmq";
import {FleetRedis} from "../redis/fleet-redis.ts";
import {resolveFleetSessionOptions} from "./coordinator-options.ts";
import type {ResumeOptions} from "./run-coordinator.ts";
import {RunStore} from "./run-store.ts";

export interface CancelOutcome {
    readonly runId: string;
    /** Queued jobs of the run that were removed (active ones finish and are dropped by their workers). */
    readonly removedJobs: number;
}

/**
 * `orchard cancel RUN`: marks the run cancelled (its coordinator stops within a second; workers
 * drop its shards), removes its queued jobs and waiting results, and unlinks it from its command so
 * that running the command again starts afresh. Outputs are left as they are (a prefix).
 */
export async function cancelRun(options: ResumeOptions): Promise<CancelOutcome> {
    const resolved = resolveFleetSessionOptions(options);
    await using fleet = await FleetRedis.open({
        redisUrl: resolved.redisUrl, stateDir: resolved.stateDir, mode: "join", ...(resolved.logger === undefined ? {} : {logger: resolved.logger})
    });
    const store = new RunStore(fleet.client, new FleetKeys(resolved.keyPrefix));
    const run = await store.requireRun(options.runId);
    if (run.state.status === "completed") throw new OrchardError("INVALID_ARGUMENT", `run ${options.runId} already completed; there is nothing to cancel`);
    await store.setStatus(options.runId, "cancelled");
    const queue = new Queue(run.spec.queueName, {connection: fleet.client, prefix: store.keys.prefix});
    let removedJobs = 0;
    try {
        // the queue is shared by every run of the model; a run's jobs are at most its pending window and its failures
        for (const job of await queue.getJobs(["waiting", "delayed", "prioritized", "failed"])) {
            if (job?.id?.startsWith(`${options.runId}-`) !== true) continue;
            await queue.remove(job.id).then((removed) => (removedJobs += removed), () => undefined);
        }
    } finally {
        await queue.close();
    }
    await store.deleteWorkingData(options.runId);
    await store.unlinkSpec(run.spec);
    return {runId: options.runId, removedJobs};
}
