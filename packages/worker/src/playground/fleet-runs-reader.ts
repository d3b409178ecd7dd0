import {FleetKeys, redactRedisUrl, runSpecSchema, RUN_STATUSES, type Logger} from "@orchard/shared";
import {Redis} from "ioredis";

/** Runs listed by GET /api/runs: the newest this many. */
export const MAX_LISTED_RUNS = 20;
/** Longest prompt text or trailing instruction passed to the page, in characters (Redis is writable by every worker). */
const MAX_TEXT_CHARS = 64 * 1024;
/** Longest name or status passed to the page, in characters. */
const MAX_LABEL_CHARS = 200;

/** One run as the page's preset menu shows it. */
export interface ListedRun {
    readonly runId: string;
    readonly name: string | null;
    readonly status: string;
    readonly createdAt: string;
    readonly promptText: string;
    readonly trailingInstruction: string;
    readonly useJsonPrompt: boolean;
}

/** GET /api/runs: the runs, and why there are none when no fleet Redis can be read. */
export interface RunsAnswer {
    readonly runs: readonly ListedRun[];
    readonly reason: string | null;
}

export interface FleetRunsReaderOptions {
    readonly redisUrl: string;
    /** Prefix of Orchard's keys. */
    readonly keyPrefix: string;
    readonly logger?: Logger;
}

/**
 * Reads the recent runs' prompts from a fleet's Redis for the playground's presets. Everything read
 * is untrusted: specs go through runSpecSchema (a record that fails it is skipped) and strings are
 * cut. A Redis that cannot be reached makes `list()` answer no runs and the reason; the playground
 * keeps serving. Reads with ioredis directly: the worker does not import the coordinator.
 */
export class FleetRunsReader {
    readonly #redis: Redis;
    readonly #keys: FleetKeys;
    readonly #where: string;
    #closed = false;

    public constructor(options: FleetRunsReaderOptions) {
        this.#keys = new FleetKeys(options.keyPrefix);
        this.#where = redactRedisUrl(options.redisUrl);
        const log = options.logger?.child({component: "playground-runs"});
        // fail a request quickly instead of queueing it while Redis is away; keep reconnecting in the background
        this.#redis = new Redis(options.redisUrl, {
            lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3000, connectionName: "orchard-playground",
            retryStrategy: (times) => Math.min(times * 200, 2000)
        });
        let warned = false;
        this.#redis.on("error", (error: Error) => {
            if (!warned) log?.warn({redis: this.#where, err: error.message}, "the fleet's Redis cannot be read: the runs list stays empty");
            warned = true;
        });
        this.#redis.on("ready", () => (warned = false));
        this.#redis.connect().catch(() => undefined);
    }

    /** The MAX_LISTED_RUNS newest runs, newest first. */
    public async list(): Promise<RunsAnswer> {
        try {
            const ids = await this.#redis.zrevrange(this.#keys.runs(), 0, MAX_LISTED_RUNS - 1);
            const multi = this.#redis.multi();
            for (const id of ids) multi.hmget(this.#keys.run(id), "spec", "status");
            const replies = ids.length === 0 ? [] : await multi.exec() ?? [];
            const runs: ListedRun[] = [];
            for (const [error, value] of replies) {
                if (error !== null || !Array.isArray(value)) continue;
                const [specText, status] = value as [string | null, string | null];
                const run = parseRun(specText, status);
                if (run !== undefined) runs.push(run);
            }
            return {runs, reason: null};
        } catch (error) {
            return {runs: [], reason: `the fleet's Redis (${this.#where}) cannot be read: ${cut((error as Error).message, MAX_LABEL_CHARS)}`};
        }
    }

    /** Idempotent. */
    public close(): void {
        if (this.#closed) return;
        this.#closed = true;
        this.#redis.disconnect();
    }

    public async [Symbol.asyncDispose](): Promise<void> {
        this.close();
    }
}

function parseRun(specText: string | null, status: string | null): ListedRun | undefined {
    if (specText === null) return undefined;
    let json: unknown;
    try {
        json = JSON.parse(specText);
    } catch {
        return undefined;
    }
    const parsed = runSpecSchema.safeParse(json);
    if (!parsed.success) return undefined;
    const spec = parsed.data;
    return {
        runId: spec.runId,
        name: spec.name === undefined ? null : cut(spec.name, MAX_LABEL_CHARS),
        status: status !== null && (RUN_STATUSES as readonly string[]).includes(status) ? status : "unknown",
        createdAt: cut(spec.createdAt, MAX_LABEL_CHARS),
        promptText: cut(spec.prompt.promptText, MAX_TEXT_CHARS),
        trailingInstruction: cut(spec.prompt.trailingInstruction, MAX_TEXT_CHARS),
        useJsonPrompt: spec.prompt.useJsonPrompt
    };
}

function cut(text: string, max: number): string {
    return text.length <= max ? text : text.slice(0, max);
}
