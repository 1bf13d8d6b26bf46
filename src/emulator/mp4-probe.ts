/**
 * Minimal ISO-BMFF reader: is this an MP4, how long is it, and how big is
 * its (first video) track. Enough to validate a character upload without
 * shipping ffprobe.
 */

export interface Mp4Info {
  readonly seconds: number;
  readonly width: number;
  readonly height: number;
}

export function probeMp4(b: Uint8Array): Mp4Info | null {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length < 12 || buf.toString('latin1', 4, 8) !== 'ftyp') return null;
  const moov = findBox(buf, 0, buf.length, 'moov');
  if (moov === null) return null;
  const mvhd = findBox(buf, moov.start, moov.end, 'mvhd');
  if (mvhd === null) return null;
  const version = buf[mvhd.start] ?? 0;
  const timescale = buf.readUInt32BE(mvhd.start + (version === 1 ? 20 : 12));
  const duration = version === 1 ? Number(buf.readBigUInt64BE(mvhd.start + 24)) : buf.readUInt32BE(mvhd.start + 16);
  if (timescale === 0) return null;
  let width = 0;
  let height = 0;
  for (let at = moov.start; ; ) {
    const trak = findBox(buf, at, moov.end, 'trak');
    if (trak === null) break;
    const tkhd = findBox(buf, trak.start, trak.end, 'tkhd');
    if (tkhd !== null) {
      // width/height are the last 8 bytes of tkhd, 16.16 fixed point.
      const w = buf.readUInt32BE(tkhd.end - 8) / 65536;
      const h = buf.readUInt32BE(tkhd.end - 4) / 65536;
      if (w > 0 && h > 0) {
        width = Math.round(w);
        height = Math.round(h);
        break;
      }
    }
    at = trak.end;
  }
  if (width === 0) return null;
  return { seconds: duration / timescale, width, height };
}

interface Box {
  /** First byte of the payload. */
  readonly start: number;
  readonly end: number;
}

function findBox(buf: Buffer, from: number, to: number, type: string): Box | null {
  let i = from;
  while (i + 8 <= to) {
    let size = buf.readUInt32BE(i);
    let header = 8;
    if (size === 1 && i + 16 <= to) {
      size = Number(buf.readBigUInt64BE(i + 8));
      header = 16;
    } else if (size === 0) size = to - i;
    if (size < header || i + size > to) return null;
    if (buf.toString('latin1', i + 4, i + 8) === type) return { start: i + header, end: i + size };
    i += size;
  }
  return null;
}
