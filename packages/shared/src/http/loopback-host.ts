/** Whether an address or name means this machine only. */
export function isLoopbackHost(host: string): boolean {
    const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
    return bare === "localhost" || bare === "::1" || /^127(\.\d{1,3}){3}$/.test(bare) || bare === "::ffff:127.0.0.1";
}

/** The host part of a Host header: "127.0.0.1:8420" -> "127.0.0.1", "[::1]:8420" -> "::1". */
export function hostOfHostHeader(hostHeader: string): string {
    const match = /^\[([^\]]+)\](?::\d+)?$/.exec(hostHeader);
    if (match !== null) return (match[1] as string).toLowerCase();
    return hostHeader.replace(/:\d+$/, "").toLowerCase();
}
