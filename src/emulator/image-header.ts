import { classifyImageBytes, type ImageFormat } from '../core/image-header.js';

/**
 * An uploaded image's type and dimensions from its first bytes, to check an
 * `input_reference` against the requested size without decoding pixels. The
 * reading itself is vidbuild's (src/core/image-header.ts), so the emulator
 * refuses exactly what `vidbuild validate` refuses.
 */

export type ImageType = 'image/png' | 'image/jpeg' | 'image/webp';

export interface ImageHeader {
  readonly type: ImageType;
  readonly width: number;
  readonly height: number;
}

const MIME: Readonly<Record<ImageFormat, ImageType>> = { PNG: 'image/png', JPEG: 'image/jpeg', WebP: 'image/webp' };

export function readImageHeader(b: Uint8Array): ImageHeader | null {
  const image = classifyImageBytes(b);
  return image.kind === 'image' ? { type: MIME[image.format], width: image.width, height: image.height } : null;
}
