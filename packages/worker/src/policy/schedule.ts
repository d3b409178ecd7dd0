import {OrchardError} from "@orchard/shared";

/** One window of `--schedule`: from `startMinute` to `endMinute` (minutes after local midnight), on `days`. */
export interface ScheduleWindow {
    /** Days the window starts on, 0 = Sunday (Date.getDay()); all seven when none were given. */
    readonly days: ReadonlySet<number>;
    readonly startMinute: number;
    /** Up to 1440 (24:00); below startMinute, the window ends on the next day. */
    readonly endMinute: number;
}

const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const ALL_DAYS: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 6]);

/**
 * Parses `--schedule`: windows separated by commas, each `[DAYS ]HH:MM-HH:MM` in local time, DAYS a
 * day (`sat`), a range (`mon-fri`, wrapping: `fri-mon`) or days joined by `+` (`sat+sun`). A window
 * that ends before it starts runs past midnight, and belongs to the day it starts on:
 * `fri 22:00-07:00` is Friday 22:00 to Saturday 07:00. Throws INVALID_ARGUMENT quoting the window.
 */
export function parseSchedule(text: string): ScheduleWindow[] {
    const windows = text.split(",").map((part) => part.trim()).filter((part) => part !== "");
    if (windows.length === 0) throw invalid(text, "no window (expected e.g. 22:00-07:00 or mon-fri 19:00-08:00)");
    return windows.map((window) => {
        const match = /^(?:(?<days>[a-z+-]+)\s+)?(?<start>\d{1,2}:\d{2})-(?<end>\d{1,2}:\d{2})$/i.exec(window);
        if (match?.groups === undefined) throw invalid(window, "expected [DAYS ]HH:MM-HH:MM, e.g. 22:00-07:00 or mon-fri 19:00-08:00");
        const startMinute = minuteOf(match.groups["start"] ?? "", window);
        const endMinute = minuteOf(match.groups["end"] ?? "", window);
        if (startMinute === endMinute) throw invalid(window, "starts and ends at the same time (00:00-24:00 is the whole day)");
        if (startMinute === 1440) throw invalid(window, "starts at 24:00");
        const days = match.groups["days"] === undefined ? ALL_DAYS : parseDays(match.groups["days"].toLowerCase(), window);
        return {days, startMinute, endMinute};
    });
}

/** Whether `at` (local time) falls in one of the windows. */
export function inSchedule(windows: readonly ScheduleWindow[], at: Date): boolean {
    const minute = at.getHours() * 60 + at.getMinutes();
    const today = at.getDay();
    const yesterday = (today + 6) % 7;
    return windows.some((window) => window.startMinute < window.endMinute
        ? window.days.has(today) && minute >= window.startMinute && minute < window.endMinute
        // past midnight: the evening part today, or the morning part of a window that started yesterday
        : (window.days.has(today) && minute >= window.startMinute) || (window.days.has(yesterday) && minute < window.endMinute));
}

function minuteOf(text: string, window: string): number {
    const [hours, minutes] = text.split(":").map(Number) as [number, number];
    if (minutes > 59 || hours > 24 || (hours === 24 && minutes > 0)) throw invalid(window, `${text} is not a time of day`);
    return hours * 60 + minutes;
}

function parseDays(text: string, window: string): Set<number> {
    const days = new Set<number>();
    for (const part of text.split("+")) {
        const [from, to, ...rest] = part.split("-");
        const first = DAY_NAMES.indexOf(from ?? "");
        const last = to === undefined ? first : DAY_NAMES.indexOf(to);
        if (first < 0 || last < 0 || rest.length > 0) throw invalid(window, `unknown days "${part}" (mon, tue, wed, thu, fri, sat, sun; a range mon-fri; or sat+sun)`);
        for (let day = first; ; day = (day + 1) % 7) {
            days.add(day);
            if (day === last) break;
        }
    }
    return days;
}

function invalid(window: string, why: string): OrchardError {
    return new OrchardError("INVALID_ARGUMENT", `--schedule "${window}": ${why}`);
}
