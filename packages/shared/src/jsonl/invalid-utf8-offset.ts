/**
 * Offset of the first byte of `bytes` that does not begin or continue a valid UTF-8 sequence
 * (overlong forms, surrogates and code points past U+10FFFF are invalid, as for node:buffer's
 * isUtf8 and a fatal TextDecoder); -1 if all of it is valid. Only called once isUtf8 said no,
 * to name the place in the error, so it favours plainness over speed.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
    let i = 0;
    while (i < bytes.length) {
        const lead = bytes[i] as number;
        if (lead < 0x80) {
            i++;
            continue;
        }
        let length: number;
        let min: number;
        if (lead >= 0xc2 && lead <= 0xdf) [length, min] = [2, 0x80];
        else if (lead >= 0xe0 && lead <= 0xef) [length, min] = [3, 0x800];
        else if (lead >= 0xf0 && lead <= 0xf4) [length, min] = [4, 0x10000];
        else return i;
        let codePoint = lead & (0xff >> (length + 1));
        for (let k = 1; k < length; k++) {
            const next = bytes[i + k];
            if (next === undefined || (next & 0xc0) !== 0x80) return i;
            codePoint = (codePoint << 6) | (next & 0x3f);
        }
        if (codePoint < min || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return i;
        i += length;
    }
    return -1;
}
