/**
 * Runs tasks one at a time, first come first served, and tells where a waiting task stands: the
 * playground holds one engine, so concurrent requests wait their turn (with a position a page can
 * show) rather than fail or compete for the context.
 */
export class RequestQueue {
    readonly #waiting: {ticket: string; start: () => void}[] = [];
    #running: string | undefined;

    /** Runs `task` once every task queued before it has finished; `ticket` names it for `positionOf`. */
    public async run<T>(ticket: string, task: () => Promise<T>): Promise<T> {
        // the finishing task hands the turn over directly (sets #running), so one arriving in between never jumps the queue
        if (this.#running !== undefined) await new Promise<void>((start) => this.#waiting.push({ticket, start}));
        else this.#running = ticket;
        try {
            return await task();
        } finally {
            const next = this.#waiting.shift();
            this.#running = next?.ticket;
            next?.start();
        }
    }

    /** 0 while `ticket` runs, n when n tasks go before it, undefined when it is not (or no longer) queued. */
    public positionOf(ticket: string): number | undefined {
        if (this.#running === ticket) return 0;
        const index = this.#waiting.findIndex((entry) => entry.ticket === ticket);
        return index < 0 ? undefined : index + 1;
    }

    /** Tasks waiting (not counting the one running). */
    public get waiting(): number {
        return this.#waiting.length;
    }

    public get busy(): boolean {
        return this.#running !== undefined;
    }
}
