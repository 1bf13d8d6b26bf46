import { classifyImage, type ReadAt } from './image-header.js';

/**
 * What a video is, from its MP4 (ISO-BMFF) box headers: the API takes only
 * MP4, a character video only of a few seconds at 720p-1080p, and an
 * extension only up to a total length. Only box headers and the few fields
 * needed are read (`mvhd` duration, each track's `hdlr` type and `tkhd` size,
 * `mehd` for a fragmented file) — never the media, nor the sample tables that
 * make up most of the index — wherever the index (`moov`) sits in the file.
 * Shared by `validate` (a file, src/manifest/video-file.ts) and the emulator
 * (an upload in memory, src/emulator/mp4-probe.ts), so both judge a video alike.
 */
export type VideoKind =
  | {
      readonly kind: 'mp4';
      readonly width: number;
      readonly height: number;
      /** undefined when the file does not say (a fragmented MP4 without `mehd`). */
      readonly seconds: number | undefined;
    }
  /** An MP4 whose tracks are all something else (an audio-only .m4a). */
  | { readonly kind: 'no-video' }
  /** Starts like an MP4 but its index cannot be read (cut short, or none). */
  | { readonly kind: 'damaged' }
  /** Another kind of file; `what` names it when recognised ("a PNG image"). */
  | { readonly kind: 'other'; readonly what: string | undefined };

/**
 * Box headers read in all before giving up: real files need a few dozen, a
 * hostile one (millions of 8-byte boxes, thousands of tracks) must not make
 * validate or an upload slow.
 */
const MAX_BOX_HEADERS = 16384;
/** ISO-BMFF brands of still images (HEIC, AVIF), which start with `ftyp` too. */
const IMAGE_BRANDS = /^(heic|heix|heim|heis|hevc|mif1|msf1|avif|avis)$/;

/** Bytes `startsLikeMp4` looks at. */
export const MP4_HEAD_BYTES = 12;

/**
 * Whether data starts the way every MP4 (ISO-BMFF) file does: an `ftyp` box
 * first, of a size that can hold its brand, and not an image's brand (HEIC,
 * AVIF). Cheap enough for a download's first chunk, so a text or JSON body
 * sent as `video/mp4` never becomes an output or enters the cache; reading
 * the whole index is `classifyVideo`'s job.
 */
export function startsLikeMp4(head: Uint8Array): boolean {
  if (head.length < MP4_HEAD_BYTES) return false;
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const size = b.readUInt32BE(0);
  // 0: the box runs to the end of the file; 1: a 64-bit size follows; else header + major brand + minor version.
  const plausible = size === 0 || size === 1 || size >= 16;
  return plausible && b.toString('latin1', 4, 8) === 'ftyp' && !IMAGE_BRANDS.test(b.toString('latin1', 8, 12));
}

interface Box {
  readonly type: string;
  /** First byte of the payload. */
  readonly start: number;
  /** First byte after the box. */
  readonly end: number;
}

export function classifyVideo(readAt: ReadAt, fileSize: number): VideoKind {
  const head = readAt(0, 12);
  if (head.length < 12 || head.toString('latin1', 4, 8) !== 'ftyp' || IMAGE_BRANDS.test(head.toString('latin1', 8, 12))) {
    const image = classifyImage(readAt);
    if (image.kind !== 'other') return { kind: 'other', what: `a ${image.format} image` };
    return { kind: 'other', what: image.what === 'a video' ? undefined : image.what };
  }
  const read: Reader = { at: readAt, headersLeft: MAX_BOX_HEADERS };
  const moov = findBox(read, 0, fileSize, 'moov');
  return moov === undefined ? { kind: 'damaged' } : readMoov(read, moov);
}

/** Reads, and what is left of the header budget for this one file. */
interface Reader {
  readonly at: ReadAt;
  headersLeft: number;
}

/** A video's length as the API counts an uploaded one: whole seconds, at least 1. */
export function wholeSeconds(seconds: number): number {
  return Math.max(1, Math.round(seconds));
}

/** `classifyVideo` over bytes in memory (an upload). */
export function classifyVideoBytes(bytes: Uint8Array): VideoKind {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return classifyVideo((position, length) => buf.subarray(position, position + length), buf.length);
}

function readMoov(read: Reader, moov: Box): VideoKind {
  const mvhd = findBox(read, moov.start, moov.end, 'mvhd');
  if (mvhd === undefined) return { kind: 'damaged' };
  const h = read.at(mvhd.start, 32);
  const version = h[0];
  if (h.length < (version === 1 ? 32 : 20)) return { kind: 'damaged' };
  const timescale = h.readUInt32BE(version === 1 ? 20 : 12);
  const duration = version === 1 ? known(h.readBigUInt64BE(24), 0xffffffffffffffffn) : known(BigInt(h.readUInt32BE(16)), 0xffffffffn);
  // A fragmented file says 0 here; its `mvex/mehd`, when present, has the length.
  const units = duration ?? movieExtendsDuration(read, moov);
  const seconds = timescale > 0 && units !== undefined ? units / timescale : undefined;

  let otherTracks = 0;
  let found: { width: number; height: number } | undefined;
  walk(read, moov.start, moov.end, (trak) => {
    if (trak.type !== 'trak') return false;
    const handler = trackHandler(read, trak);
    const size = trackSize(read, trak);
    // Without a handler (hand-made files), a track with a picture size is taken as the video.
    if (size !== undefined && (handler === undefined || handler === 'vide')) {
      found = size;
      return true;
    }
    if (handler !== undefined && handler !== 'vide') otherTracks++;
    return false;
  });
  if (found !== undefined) return { kind: 'mp4', ...found, seconds };
  return otherTracks > 0 && read.headersLeft > 0 ? { kind: 'no-video' } : { kind: 'damaged' };
}

/** A duration field's value; undefined for 0 and for all ones (ISO 14496-12: "unknown"). */
function known(value: bigint, unknown: bigint): number | undefined {
  return value === 0n || value === unknown ? undefined : Number(value);
}

function movieExtendsDuration(read: Reader, moov: Box): number | undefined {
  const mvex = findBox(read, moov.start, moov.end, 'mvex');
  const mehd = mvex === undefined ? undefined : findBox(read, mvex.start, mvex.end, 'mehd');
  if (mehd === undefined) return undefined;
  const b = read.at(mehd.start, 12);
  if (b[0] === 1) return b.length < 12 ? undefined : known(b.readBigUInt64BE(4), 0xffffffffffffffffn);
  return b.length < 8 ? undefined : known(BigInt(b.readUInt32BE(4)), 0xffffffffn);
}

/** `trak/mdia/hdlr` handler type ('vide', 'soun', ...), when the track has one. */
function trackHandler(read: Reader, trak: Box): string | undefined {
  const mdia = findBox(read, trak.start, trak.end, 'mdia');
  const hdlr = mdia === undefined ? undefined : findBox(read, mdia.start, mdia.end, 'hdlr');
  if (hdlr === undefined) return undefined;
  // version/flags (4), pre_defined (4), handler_type (4).
  const b = read.at(hdlr.start + 8, 4);
  return b.length === 4 ? b.toString('latin1') : undefined;
}

/** Width and height from `tkhd` (its last 8 bytes, 16.16 fixed point); undefined when 0 (an audio track) or unreadable. */
function trackSize(read: Reader, trak: Box): { width: number; height: number } | undefined {
  const tkhd = findBox(read, trak.start, trak.end, 'tkhd');
  // Version 0 has 84 bytes of payload, version 1 has 96.
  if (tkhd === undefined || tkhd.end - tkhd.start < 84) return undefined;
  const b = read.at(tkhd.end - 8, 8);
  if (b.length < 8) return undefined;
  const width = Math.round(b.readUInt32BE(0) / 65536);
  const height = Math.round(b.readUInt32BE(4) / 65536);
  return width > 0 && height > 0 ? { width, height } : undefined;
}

function findBox(read: Reader, from: number, to: number, type: string): Box | undefined {
  let out: Box | undefined;
  walk(read, from, to, (box) => {
    if (box.type !== type) return false;
    out = box;
    return true;
  });
  return out;
}

/**
 * Visits the boxes between `from` and `to` (one level, 16 header bytes read
 * each) until `visit` returns true. Stops at a box that does not fit: a file
 * cut short keeps what came before the cut.
 */
function walk(read: Reader, from: number, to: number, visit: (box: Box) => boolean): void {
  let at = from;
  while (at + 8 <= to && read.headersLeft > 0) {
    read.headersLeft--;
    const h = read.at(at, 16);
    if (h.length < 8) return;
    let size = h.readUInt32BE(0);
    let header = 8;
    if (size === 1) {
      if (h.length < 16) return;
      size = Number(h.readBigUInt64BE(8));
      header = 16;
    } else if (size === 0) {
      size = to - at; // the box runs to the end of its container
    }
    if (size < header || at + size > to) return;
    if (visit({ type: h.toString('latin1', 4, 8), start: at + header, end: at + size })) return;
    at += size;
  }
}
