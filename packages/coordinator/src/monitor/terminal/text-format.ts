/** Small formatting helpers of the terminal views (status, the live view of `orchard run`). */

/** ANSI styling, or plain text when colour is off (not a TTY, NO_COLOR). */
export interface Paint {
    readonly bold: (text: string) => string;
    readonly dim: (text: string) => string;
    readonly green: (text: string) => string;
    readonly yellow: (text: string) => string;
    readonly red: (text: string) => string;
    readonly cyan: (text: string) => string;
}

export function paint(color: boolean): Paint {
    const wrap = (code: number, reset: number) => (text: string) => (color ? `\x1b[${code}m${text}\x1b[${reset}m` : text);
    return {bold: wrap(1, 22), dim: wrap(2, 22), green: wrap(32, 39), yellow: wrap(33, 39), red: wrap(31, 39), cyan: wrap(36, 39)};
}

/** Whether to colour a stream: a TTY, and NO_COLOR unset (https://no-color.org). */
export function colorFor(stream: {isTTY?: boolean}, env: NodeJS.ProcessEnv = process.env): boolean {
    return stream.isTTY === true && (env["NO_COLOR"] ?? "") === "";
}

/** 1234567 -> "1,234,567". */
export function formatCount(value: number): string {
    return Math.round(value).toLocaleString("en-US");
}

/** Tokens per second: "812", "12.4k". */
export function formatTokensRate(value: number): string {
    if (value >= 10_000) return `${(value / 1000).toFixed(1)}k`;
    return value >= 100 ? String(Math.round(value)) : value.toFixed(1);
}

/** Documents per second with enough digits to tell a slow run from a stopped one. */
export function formatDocsRate(value: number): string {
    return value >= 100 ? String(Math.round(value)) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** Seconds as "45s", "12m05s", "3h05m", "2d04h". */
export function formatDuration(seconds: number): string {
    if (!Number.isFinite(seconds) || seconds < 0) return "-";
    const s = Math.round(seconds);
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
    if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
    return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, "0")}h`;
}

/** An ISO time as the local "HH:MM", with the date when it is not today. */
export function formatClock(isoTime: string, now: Date = new Date()): string {
    const date = new Date(isoTime);
    const time = `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
    return date.toDateString() === now.toDateString() ? time : `${date.toISOString().slice(0, 10)} ${time}`;
}

/** 17179869184 -> "16.0 GB". */
export function formatBytes(bytes: number): string {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
        value /= 1024;
        unit++;
    }
    return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/**
 * A bar of `width` cells: merged documents full (█), missing ones shaded (▒), the rest light (░).
 * Plain ASCII (#, x, .) when `ascii`.
 */
export function progressBar(merged: number, missing: number, total: number, width: number, ascii = false): string {
    const [full, shaded, empty] = ascii ? ["#", "x", "."] : ["█", "▒", "░"];
    if (total <= 0) return full.repeat(width);
    const fullCells = Math.floor((merged / total) * width);
    const shadedCells = Math.min(width - fullCells, Math.ceil((missing / total) * width));
    return full.repeat(fullCells) + shaded.repeat(shadedCells) + empty.repeat(Math.max(0, width - fullCells - shadedCells));
}

/** Cuts text to `width` characters with an ellipsis. */
export function truncate(text: string, width: number): string {
    if (width <= 0) return "";
    return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/** Cuts text to `width` characters from the left (keeps a path's file name). */
export function truncateLeft(text: string, width: number): string {
    if (width <= 0) return "";
    return text.length <= width ? text : `…${text.slice(text.length - width + 1)}`;
}

/** Visible length (ANSI codes left out). */
export function visibleLength(text: string): number {
    // eslint-disable-next-line no-control-regex
    return text.replace(/\x1b\[[0-9;]*m/g, "").length;
}

/** Rows of cells as aligned columns (two spaces apart); `right` columns are right-aligned. */
export function table(rows: readonly (readonly string[])[], options: {right?: readonly number[]} = {}): string[] {
    const widths: number[] = [];
    for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell))));
    return rows.map((row) => row.map((cell, i) => {
        const pad = " ".repeat((widths[i] ?? 0) - visibleLength(cell));
        if (i === row.length - 1 && !(options.right ?? []).includes(i)) return cell;
        return (options.right ?? []).includes(i) ? pad + cell : cell + pad;
    }).join("  ").trimEnd());
}
