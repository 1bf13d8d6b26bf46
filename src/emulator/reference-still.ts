import { createHash } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';

/**
 * The image an `input_reference` given by URL or file id stands for. The
 * emulator fetches nothing from the network and has no Files API, so it
 * draws a still instead: a vertical gradient between two colours taken from
 * the sha256 of the reference, as a PNG of the video's size. The same URL or
 * id always gives the same still (and so the same first frames); another one
 * gives other colours, so tests can tell the renders apart. From here on the
 * still is handled exactly as an uploaded image.
 */
export function referenceStill(reference: string, width: number, height: number): Buffer {
  const seed = createHash('sha256').update(reference).digest();
  const top = [seed[0] ?? 0, seed[1] ?? 0, seed[2] ?? 0] as const;
  const bottom = [seed[3] ?? 0, seed[4] ?? 0, seed[5] ?? 0] as const;
  const stride = 1 + width * 3;
  const raw = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const t = height === 1 ? 0 : y / (height - 1);
    const rgb = Buffer.from(top.map((c, i) => Math.round(c + ((bottom[i] ?? 0) - c) * t)));
    const row = y * stride;
    // Filter byte 0 (none, already 0), then the row's colour repeated (fill repeats a pattern natively).
    raw.fill(rgb, row + 1, row + stride);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = 2; // truecolour RGB
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}
