/** Decimal units, as disks and downloads are sold and shown: 26_440_000_000 -> "26.4 GB". */
export function formatByteSize(bytes: number): string {
    const units = ["B", "kB", "MB", "GB", "TB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
        value /= 1000;
        unit++;
    }
    return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
