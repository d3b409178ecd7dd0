import {inflateSync} from "node:zlib";

/** What a screenshot shows, roughly: enough to tell a rendered page from a blank one. */
export interface PngStats {
    readonly width: number;
    readonly height: number;
    /** Distinct colours (RGB, alpha ignored). */
    readonly colors: number;
    /** Share of pixels that differ from the most common colour (the background). */
    readonly nonBackground: number;
}

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium's screenshots are) and counts its colours. */
export function pngStats(png: Buffer): PngStats {
    if (png.readUInt32BE(0) !== 0x89504e47) throw new Error("not a PNG");
    let offset = 8;
    let width = 0, height = 0, channels = 0;
    const data: Buffer[] = [];
    while (offset < png.length) {
        const length = png.readUInt32BE(offset);
        const type = png.toString("latin1", offset + 4, offset + 8);
        const body = png.subarray(offset + 8, offset + 8 + length);
        if (type === "IHDR") {
            width = body.readUInt32BE(0);
            height = body.readUInt32BE(4);
            const [depth, colorType, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
            if (depth !== 8 || (colorType !== 2 && colorType !== 6) || interlace !== 0) throw new Error(`unsupported PNG (depth ${depth}, colour type ${colorType}, interlace ${interlace})`);
            channels = colorType === 6 ? 4 : 3;
        } else if (type === "IDAT") data.push(body);
        else if (type === "IEND") break;
        offset += 12 + length;
    }
    const raw = inflateSync(Buffer.concat(data));
    const stride = width * channels;
    const pixels = Buffer.alloc(stride * height);
    for (let y = 0; y < height; y++) {
        const filter = raw[y * (stride + 1)] as number;
        const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
        for (let x = 0; x < stride; x++) {
            const a = x >= channels ? (pixels[y * stride + x - channels] as number) : 0;
            const b = y > 0 ? (pixels[(y - 1) * stride + x] as number) : 0;
            const c = x >= channels && y > 0 ? (pixels[(y - 1) * stride + x - channels] as number) : 0;
            const value = line[x] as number;
            let predicted = 0;
            if (filter === 1) predicted = a;
            else if (filter === 2) predicted = b;
            else if (filter === 3) predicted = Math.floor((a + b) / 2);
            else if (filter === 4) {
                const p = a + b - c;
                const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
                predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
            }
            pixels[y * stride + x] = (value + predicted) & 0xff;
        }
    }
    const counts = new Map<number, number>();
    for (let i = 0; i < pixels.length; i += channels) {
        const color = ((pixels[i] as number) << 16) | ((pixels[i + 1] as number) << 8) | (pixels[i + 2] as number);
        counts.set(color, (counts.get(color) ?? 0) + 1);
    }
    const background = Math.max(...counts.values());
    return {width, height, colors: counts.size, nonBackground: 1 - background / (width * height)};
}
