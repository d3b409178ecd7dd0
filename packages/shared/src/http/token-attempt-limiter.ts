/** How a web server of ours (dashboard, playground) slows down guessing of its token. */
export interface TokenAttemptLimitOptions {
    /** Wrong tokens from one address, within `windowMs`, that lock it out. Default 10. */
    readonly maxFailures?: number;
    /** Time over which wrong tokens are counted, in ms. Default 300,000 (5 minutes). */
    readonly windowMs?: number;
    /** How long a locked-out address gets 429 on every request, in ms. Default 300,000 (5 minutes). */
    readonly lockoutMs?: number;
    /** Addresses remembered at once; beyond it the least recently seen are forgotten. Default 10,000. */
    readonly maxAddresses?: number;
    /** The clock, in ms. Default Date.now. */
    readonly now?: () => number;
}

interface Attempts {
    /** Start of the current counting window, ms. */
    windowStartMs: number;
    failures: number;
    /** What identifies the last wrong token (its digest). */
    lastWrong: string;
    /** 0 when not locked out. */
    lockedUntilMs: number;
}

/**
 * Counts wrong tokens per client address and locks an address out for a while once it
 * has sent too many: a token of 16 characters or more is out of reach of guessing anyway, but the
 * lockout keeps a scanner from hammering the server and its Redis. Memory stays bounded: at
 * most `maxAddresses` entries, the least recently seen forgotten first (a Map keeps insertion order).
 */
export class TokenAttemptLimiter {
    readonly #maxFailures: number;
    readonly #windowMs: number;
    readonly #lockoutMs: number;
    readonly #maxAddresses: number;
    readonly #now: () => number;
    readonly #attempts = new Map<string, Attempts>();

    public constructor(options: TokenAttemptLimitOptions = {}) {
        this.#maxFailures = options.maxFailures ?? 10;
        this.#windowMs = options.windowMs ?? 300_000;
        this.#lockoutMs = options.lockoutMs ?? 300_000;
        this.#maxAddresses = options.maxAddresses ?? 10_000;
        this.#now = options.now ?? Date.now;
        for (const [name, value] of Object.entries({maxFailures: this.#maxFailures, windowMs: this.#windowMs, lockoutMs: this.#lockoutMs, maxAddresses: this.#maxAddresses}))
            if (!Number.isInteger(value) || value < 1) throw new RangeError(`token attempt limit: ${name} must be a positive integer (got ${value})`);
    }

    /** Milliseconds `address` stays locked out; 0 when it may try. */
    public lockedForMs(address: string): number {
        const entry = this.#attempts.get(address);
        if (entry === undefined || entry.lockedUntilMs === 0) return 0;
        const left = entry.lockedUntilMs - this.#now();
        if (left > 0) return left;
        // served its time: it starts again from zero
        this.#attempts.delete(address);
        return 0;
    }

    /**
     * Records a wrong token from `address`; `token` identifies it (a digest). The same wrong token
     * again counts once: it is no new guess, but what a browser tab sends on every reconnect when
     * its cookie holds the token of an earlier start of the dashboard.
     */
    public fail(address: string, token: string): void {
        const now = this.#now();
        let entry = this.#attempts.get(address);
        if (entry === undefined || now - entry.windowStartMs >= this.#windowMs) entry = {windowStartMs: now, failures: 0, lastWrong: "", lockedUntilMs: 0};
        if (entry.lastWrong !== token) entry.failures++;
        entry.lastWrong = token;
        if (entry.failures >= this.#maxFailures) entry.lockedUntilMs = now + this.#lockoutMs;
        // re-inserted, so the map's first entries are the least recently seen
        this.#attempts.delete(address);
        this.#attempts.set(address, entry);
        while (this.#attempts.size > this.#maxAddresses) this.#attempts.delete(this.#attempts.keys().next().value as string);
    }

    /** A right token: the address's earlier mistakes are forgiven. */
    public succeed(address: string): void {
        this.#attempts.delete(address);
    }

    /** Addresses remembered now. */
    public get size(): number {
        return this.#attempts.size;
    }
}
