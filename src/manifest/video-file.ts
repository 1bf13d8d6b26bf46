import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { classifyVideo, type VideoKind } from '../core/mp4-header.js';

/**
 * What a local video (a character's `video`, an `edit`/`extend` `file`) is
 * (src/core/mp4-header.ts reads it, as the emulator does an upload).
 */
export type { VideoKind };

/** Synchronous, as the reference-image probe: a few small reads of box headers per file. */
export function probeVideoFile(absPath: string): VideoKind {
  const fd = openSync(absPath, 'r');
  try {
    const size = fstatSync(fd).size;
    return classifyVideo((position, length) => {
      const buf = Buffer.alloc(Math.max(0, Math.min(length, size - position)));
      return buf.subarray(0, readSync(fd, buf, 0, buf.length, position));
    }, size);
  } finally {
    closeSync(fd);
  }
}
