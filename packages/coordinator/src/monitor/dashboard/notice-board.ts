/** A message for the pages of a run (an action's outcome, a retry session's end). */
export interface Notice {
    readonly id: number;
    readonly runId: string;
    readonly level: "info" | "error";
    readonly message: string;
    readonly at: string;
}

/** Recent notices per run, for the live streams. */
export class NoticeBoard {
    #next = 1;
    readonly #notices: Notice[] = [];

    public add(runId: string, level: Notice["level"], message: string): void {
        this.#notices.push({id: this.#next++, runId, level, message, at: new Date().toISOString()});
        if (this.#notices.length > 100) this.#notices.shift();
    }

    public since(runId: string, afterId: number): Notice[] {
        return this.#notices.filter((notice) => notice.runId === runId && notice.id > afterId);
    }

    public get lastId(): number {
        return this.#next - 1;
    }
}
