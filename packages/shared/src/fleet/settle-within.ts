/**
 * Waits for `promise` at most `ms`; never rejects. True when it settled (resolved or rejected) in
 * time; it is left running otherwise. What shuts down waits on Redis with this: an embedded Redis
 * may already be gone, a frozen one or a cut network never answers, and a client that retries
 * forever must not keep a finished command (or a stopping worker) from exiting.
 */
export async function settleWithin(promise: Promise<unknown> | undefined, ms: number): Promise<boolean> {
    if (promise === undefined) return true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    try {
        return await Promise.race([promise.then(() => true, () => true), late]);
    } finally {
        clearTimeout(timer);
    }
}
