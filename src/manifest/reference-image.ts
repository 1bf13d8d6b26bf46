import { closeSync, openSync, readSync } from 'node:fs';
import { classifyImage, type ImageFormat, type ImageKind } from '../core/image-header.js';

/**
 * What an `input_reference` file is (src/core/image-header.ts reads it): the
 * API takes only JPEG, PNG and WebP, of exactly the video's size (the image
 * becomes the first frame).
 */
export type { ImageFormat };
export type ReferenceImage = ImageKind;

/**
 * Synchronous on purpose: a few small reads per file, and a manifest may name
 * thousands of references; through the thread pool each costs ~100 µs more
 * (10k references: 1 s more per validate/plan).
 */
export function probeReferenceImage(absPath: string): ReferenceImage {
  const fd = openSync(absPath, 'r');
  try {
    return classifyImage((position, length) => {
      const buf = Buffer.alloc(length);
      return buf.subarray(0, readSync(fd, buf, 0, length, position));
    });
  } finally {
    closeSync(fd);
  }
}
