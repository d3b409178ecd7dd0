/**
 * Waits for `promise` at most `ms`; never rejects. Monitoring waits on Redis with this when it
 * shuts down: an embedded Redis may already be gone, and a client that retries forever must not
 * keep a finished command from exiting.
 */
export async function settleWithin(promise: Promise<unknown> | undefined, ms: number): Promise<void> {
    if (promise === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
}
