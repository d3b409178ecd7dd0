import {createHash} from "node:crypto";
import {join} from "node:path";

/** Redis key prefix of everything Orchard stores (BullMQ's queues included). */
export const DEFAULT_KEY_PREFIX = "orchard";

/**
 * The BullMQ queue of a model fingerprint: a worker consumes only its model's queue, so a worker
 * with other weights can never take (or answer) a run's shards.
 */
export function shardQueueName(fingerprint: string): string {
    // 64 bits of the hash are plenty to tell a fleet's models apart and keep keys readable
    return `shards-${fingerprint.startsWith("sim-") ? fingerprint.slice(0, 20) : fingerprint.slice(0, 16)}`;
}

/**
 * Deterministic job id of a shard, so that enqueueing it again (a resumed coordinator, a reconcile
 * after Redis lost a second of writes) is a no-op while the job exists. BullMQ forbids ":" in ids.
 */
export function shardJobId(runId: string, inputIndex: number, localShard: number): string {
    return `${runId}-i${inputIndex}-s${localShard}`;
}

/** Names of the Redis keys of runs (everything but BullMQ's own). */
export class FleetKeys {
    public readonly prefix: string;

    public constructor(prefix: string = DEFAULT_KEY_PREFIX) {
        this.prefix = prefix;
    }

    /** Hash: `spec` (JSON), `status`, the merge cursor and counters. */
    public run(runId: string): string {
        return `${this.prefix}:run:${runId}`;
    }

    /** Hash: global shard index -> shard result JSON, until merged. */
    public results(runId: string): string {
        return `${this.prefix}:run:${runId}:results`;
    }

    /**
     * Pub/sub channel: a worker publishes a shard's index once its result is in `results`, so the
     * coordinator merges at once instead of at its next poll (which stays, for missed messages).
     */
    public resultsChannel(runId: string): string {
        return `${this.prefix}:run:${runId}:results:new`;
    }

    /** Hash: global shard index -> failure JSON, for shards that exhausted their attempts. */
    public failed(runId: string): string {
        return `${this.prefix}:run:${runId}:failed`;
    }

    /** Hash: `input:index` -> skipped document JSON (documents a worker refused, e.g. too long). */
    public skipped(runId: string): string {
        return `${this.prefix}:run:${runId}:skipped`;
    }

    /** Hash: worker name -> why it leaves the run's shards alone (ShardRefusal JSON): what `orchard status` says the run waits for. */
    public refusals(runId: string): string {
        return `${this.prefix}:run:${runId}:refusals`;
    }

    /** Hash: global shard index -> where its merged result was computed (ShardProvenance JSON): `orchard provenance`, status's backend split. */
    public provenance(runId: string): string {
        return `${this.prefix}:run:${runId}:provenance`;
    }

    /** Set: global shard indices rerun by `retry-failed`, patched into the outputs when done. */
    public retrying(runId: string): string {
        return `${this.prefix}:run:${runId}:retrying`;
    }

    /** String: the coordinator lock (one coordinator per run). */
    public lock(runId: string): string {
        return `${this.prefix}:run:${runId}:lock`;
    }

    /** String: the run id of a run spec (same model, inputs, settings, outputs), so a re-run resumes. */
    public runBySpec(specKey: string): string {
        return `${this.prefix}:run-by-spec:${specKey}`;
    }

    /**
     * String (JSON, ModelSource): where the model of this fingerprint is served over HTTP and its
     * token (`orchard run --serve-model`, `orchard serve-model`); it expires unless its server
     * refreshes it, and the server deletes it when it stops.
     */
    public modelSource(fingerprint: string): string {
        return `${this.prefix}:model-source:${fingerprint}`;
    }

    /** Sorted set of run ids by creation time. */
    public runs(): string {
        return `${this.prefix}:runs`;
    }
}

/** Where the embedded Redis of a state folder records how to reach it. */
export function embeddedRedisEndpointPath(stateDir: string): string {
    return join(stateDir, "redis", "endpoint.json");
}

/** Hex SHA-256 of a value's JSON, for keys derived from content. */
export function sha256Json(value: unknown): string {
    return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

/** `redis://:***@host:port/db`: a URL fit for logs (the password is never printed). */
export function redactRedisUrl(url: string): string {
    try {
        const parsed = new URL(url);
        if (parsed.password !== "") parsed.password = "***";
        return parsed.toString().replace(/\/$/, "");
    } catch {
        return "<invalid Redis URL>";
    }
}
