/** A document that is not in the outputs, and why. */
export interface MissingDocument {
    readonly id: string;
    /** The input as the user named it. */
    readonly file: string;
    readonly line: number;
    readonly code: string;
    readonly message: string;
}

/** What a coordinator reports while it works (the CLI draws progress from these). */
export type CoordinatorEvent =
    | {
        readonly type: "started";
        readonly runId: string;
        readonly resumed: boolean;
        /** URL of the fleet's Redis for this machine (password included: never print it, never put it on a command line). */
        readonly redisUrl: string;
        /**
         * URL other machines' workers use (password included: print it only where the user asked);
         * undefined when an embedded Redis listens on loopback only, so only this machine can join.
         */
        readonly joinUrl: string | undefined;
        /** The name this coordinator is advertised under on the LAN (`orchard worker --join NAME`), or undefined. */
        readonly advertisedAs?: string | undefined;
        readonly embeddedRedis: boolean;
        readonly queueName: string;
        readonly totalDocuments: number;
        readonly mergedDocuments: number;
        readonly localWorkers: number;
        /** Names of those local workers, as their heartbeats carry them. */
        readonly localWorkerNames: readonly string[];
    }
    | {
        readonly type: "progress";
        readonly runId: string;
        /** Documents in the outputs. */
        readonly merged: number;
        /** Documents passed over (failed shards, refused documents). */
        readonly missing: number;
        readonly total: number;
        /** Workers connected to the run's queue, when Redis can tell (CLIENT LIST). */
        readonly workers: number | undefined;
        /** Merged documents per second over the last minute. */
        readonly documentsPerSecond: number;
    }
    | {readonly type: "patching"; readonly runId: string; readonly shards: number};

/** How a coordinator ended. */
export interface RunSummary {
    readonly runId: string;
    /**
     * completed: every document is in the outputs. incomplete: documents are missing (listed;
     * `retry-failed`). interrupted: stopped by a signal, resumable. cancelled: `orchard cancel`.
     */
    readonly status: "completed" | "incomplete" | "interrupted" | "cancelled";
    /** The run was already complete: nothing was done. */
    readonly alreadyComplete: boolean;
    readonly resumed: boolean;
    readonly totalDocuments: number;
    readonly mergedDocuments: number;
    readonly missingDocuments: number;
    /** The missing documents, in input order (the first 1,000). */
    readonly missing: readonly MissingDocument[];
    readonly outputs: readonly string[];
    readonly seconds: number;
}
