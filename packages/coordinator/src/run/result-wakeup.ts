import type {Logger} from "@orchard/shared";
import type {Redis} from "ioredis";

/**
 * Ends a coordinator's poll sleep early when a worker announces a result on the run's channel, so a
 * result is merged as soon as it lands rather than at the next poll. Best effort: without the
 * subscription, or with a message lost, the poll still finds every result. A result announced while
 * the coordinator was busy makes its next sleep return at once.
 */
export class ResultWakeup {
    readonly #stop: AbortSignal;
    readonly #log: Logger | undefined;
    #subscriber: Redis | undefined;
    /** Ends the current sleep early. */
    #wake: (() => void) | undefined;
    #announced = false;

    /** `stop` ends any sleep too (the session is stopping). */
    public constructor(stop: AbortSignal, logger?: Logger) {
        this.#stop = stop;
        this.#log = logger;
    }

    /** Subscribes to `channel` on a connection of its own (a subscribed one can do nothing else); polling only if that fails. */
    public async listen(client: Redis, channel: string): Promise<void> {
        const subscriber = client.duplicate();
        subscriber.on("error", (error) => this.#log?.debug({err: error.message}, "results subscriber error"));
        subscriber.on("message", () => {
            if (this.#wake === undefined) this.#announced = true;
            else this.#wake();
        });
        try {
            await subscriber.subscribe(channel);
            this.#subscriber = subscriber;
        } catch (error) {
            this.#log?.debug({err: (error as Error).message}, "no results subscription; polling only");
            subscriber.disconnect();
        }
    }

    /** Waits `ms`, or less: until a worker announces a result, or the session stops. */
    public sleep(ms: number): Promise<void> {
        if (this.#announced) {
            this.#announced = false;
            return Promise.resolve();
        }
        return new Promise((resolve) => {
            const done = () => {
                clearTimeout(timer);
                this.#stop.removeEventListener("abort", done);
                this.#wake = undefined;
                this.#announced = false;
                resolve();
            };
            const timer = setTimeout(done, ms);
            this.#wake = done;
            this.#stop.addEventListener("abort", done, {once: true});
        });
    }

    /** Drops the subscription. Idempotent. */
    public close(): void {
        this.#subscriber?.disconnect();
        this.#subscriber = undefined;
    }
}
