/**
 * What an image is, from its first bytes: the Videos API takes only JPEG, PNG
 * and WebP. Only headers are read — PNG's IHDR, WebP's VP8/VP8L/VP8X chunk,
 * and a JPEG's markers walked segment by segment to its SOF (a few bytes per
 * segment, so EXIF/ICC blocks before it are skipped, not read) — never pixels.
 * Shared by `validate` (reading a file, src/manifest/reference-image.ts) and
 * the emulator (an upload in memory), so both judge an image the same way.
 */
export type ImageFormat = 'PNG' | 'JPEG' | 'WebP';

export type ImageKind =
  | { readonly kind: 'image'; readonly format: ImageFormat; readonly width: number; readonly height: number }
  /** Starts like one of the accepted formats, but its dimensions cannot be read. */
  | { readonly kind: 'damaged'; readonly format: ImageFormat }
  /** Another kind of file; `what` names it when recognised ("a GIF image", "a video"). */
  | { readonly kind: 'other'; readonly what: string | undefined };

/** Reads up to `length` bytes at `position` (fewer at the end of the data). */
export type ReadAt = (position: number, length: number) => Buffer;

/** Bytes `classifyImage` looks at first. */
export const IMAGE_HEAD_BYTES = 64;
/** A JPEG whose SOF is not found within this many segments or bytes is treated as damaged. */
const MAX_JPEG_SEGMENTS = 4096;
const MAX_JPEG_OFFSET = 64 << 20;

export function classifyImage(read: ReadAt): ImageKind {
  const b = read(0, IMAGE_HEAD_BYTES);
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return png(b);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpeg(read);
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return webp(b);
  return { kind: 'other', what: otherKind(b) };
}

/** `classifyImage` over bytes in memory. */
export function classifyImageBytes(bytes: Uint8Array): ImageKind {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return classifyImage((position, length) => buf.subarray(position, position + length));
}

function png(b: Buffer): ImageKind {
  if (b.length < 24 || ascii(b, 12, 16) !== 'IHDR') return { kind: 'damaged', format: 'PNG' };
  return sized('PNG', b.readUInt32BE(16), b.readUInt32BE(20));
}

function webp(b: Buffer): ImageKind {
  const chunk = ascii(b, 12, 16);
  // VP8 (lossy): frame tag, then start code 9d 01 2a, then 14-bit width and height.
  if (chunk === 'VP8 ' && b.length >= 30 && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
    return sized('WebP', b.readUInt16LE(26) & 0x3fff, b.readUInt16LE(28) & 0x3fff);
  }
  // VP8L (lossless): signature 0x2f, then 14 bits each of width-1 and height-1.
  if (chunk === 'VP8L' && b.length >= 25 && b[20] === 0x2f) {
    const bits = b.readUInt32LE(21);
    return sized('WebP', (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  // VP8X (extended: alpha, animation, metadata): 24-bit canvas width-1 and height-1.
  if (chunk === 'VP8X' && b.length >= 30) return sized('WebP', b.readUIntLE(24, 3) + 1, b.readUIntLE(27, 3) + 1);
  return { kind: 'damaged', format: 'WebP' };
}

function jpeg(read: ReadAt): ImageKind {
  const damaged: ImageKind = { kind: 'damaged', format: 'JPEG' };
  let at = 2;
  for (let n = 0; n < MAX_JPEG_SEGMENTS && at < MAX_JPEG_OFFSET; n++) {
    const h = read(at, 9);
    if (h.length < 2 || h[0] !== 0xff) return damaged;
    const marker = h[1] ?? 0;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    // Markers without a length: TEM, RSTn, SOI.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2;
      continue;
    }
    // End of image or start of scan before any frame header: no size to read.
    if (marker === 0xd9 || marker === 0xda || h.length < 4) return damaged;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return h.length < 9 ? damaged : sized('JPEG', h.readUInt16BE(7), h.readUInt16BE(5));
    const length = h.readUInt16BE(2);
    if (length < 2) return damaged;
    at += 2 + length;
  }
  return damaged;
}

function sized(format: ImageFormat, width: number, height: number): ImageKind {
  return width > 0 && height > 0 ? { kind: 'image', format, width, height } : { kind: 'damaged', format };
}

/** Names common files people point a reference at by mistake, for a clearer message. */
function otherKind(b: Buffer): string | undefined {
  if (b.length === 0) return 'an empty file';
  if (ascii(b, 0, 4) === 'GIF8') return 'a GIF image';
  if (ascii(b, 0, 2) === 'BM') return 'a BMP image';
  if (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*') return 'a TIFF image';
  if (startsWith(b, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20]) || startsWith(b, [0xff, 0x0a])) return 'a JPEG XL image';
  if (ascii(b, 4, 8) === 'ftyp') {
    const brand = ascii(b, 8, 12);
    if (/^(heic|heix|heim|heis|hevc|mif1|msf1)$/.test(brand)) return 'a HEIC image';
    if (/^avi[fs]$/.test(brand)) return 'an AVIF image';
    return 'a video';
  }
  if (ascii(b, 0, 4) === '\x1aE\xdf\xa3') return 'a video';
  if (ascii(b, 0, 4) === '%PDF') return 'a PDF document';
  if (ascii(b, 0, 4) === 'RIFF') return 'a RIFF file (not WebP)';
  return undefined;
}

function startsWith(b: Buffer, bytes: readonly number[]): boolean {
  return b.length >= bytes.length && bytes.every((x, i) => b[i] === x);
}

function ascii(b: Buffer, from: number, to: number): string {
  return b.length >= to ? b.toString('latin1', from, to) : '';
}
