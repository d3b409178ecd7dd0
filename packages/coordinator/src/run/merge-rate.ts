/** The window the merge rate is measured over, in ms. */
const WINDOW_MS = 60_000;

/**
 * Documents merged per second over the last minute, for the coordinator's progress events: one
 * sample per merge step (its time and the documents merged so far), the oldest dropped once the
 * window holds a newer pair.
 */
export class MergeRate {
    readonly #samples: {at: number; merged: number}[] = [];

    /** Documents merged so far, at `atMs` (performance.now() time). */
    public record(merged: number, atMs: number = performance.now()): void {
        this.#samples.push({at: atMs, merged});
    }

    /** Documents per second from the oldest sample within the window to the newest; 0 with fewer than two. */
    public perSecond(nowMs: number = performance.now()): number {
        while (this.#samples.length > 1 && nowMs - (this.#samples[0] as {at: number}).at > WINDOW_MS) this.#samples.shift();
        const first = this.#samples[0];
        const last = this.#samples.at(-1);
        return first !== undefined && last !== undefined && last.at > first.at ? (last.merged - first.merged) / ((last.at - first.at) / 1000) : 0;
    }
}
