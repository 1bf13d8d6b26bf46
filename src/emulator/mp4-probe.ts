import { classifyVideoBytes } from '../core/mp4-header.js';

/**
 * An uploaded video's size and length, to check a character video and to
 * size an edit or extension of an upload without shipping ffprobe. The
 * reading itself is vidbuild's (src/core/mp4-header.ts), so the emulator
 * refuses exactly what `vidbuild validate` refuses.
 */
export interface Mp4Info {
  /** 0 when the file does not say (a fragmented MP4 without `mehd`). */
  readonly seconds: number;
  readonly width: number;
  readonly height: number;
}

/** null when the bytes are not an MP4 with a readable video track. */
export function probeMp4(b: Uint8Array): Mp4Info | null {
  const v = classifyVideoBytes(b);
  return v.kind === 'mp4' ? { seconds: v.seconds ?? 0, width: v.width, height: v.height } : null;
}
