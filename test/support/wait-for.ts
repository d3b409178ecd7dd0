/**
 * Polls `probe` until it returns a value (not undefined), every `intervalMs`; throws naming `what`
 * past `timeoutMs` (a safety net for a hung test, not an assertion on speed).
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, options: {timeoutMs?: number; intervalMs?: number} = {}): Promise<T> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
        const value = await probe();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
    }
}
