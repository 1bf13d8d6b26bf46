import type { ApiLimits } from '../core/api-limits.js';
import { err, ok, type Result } from '../core/result.js';
import { invalid, type ApiError } from './api-error.js';
import { readImageHeader } from './image-header.js';
import { isBodyObject, isUploadedFile, type BodyObject, type BodyValue } from './request-body.js';

/**
 * `input_reference` on `POST /videos`, in each form the spec allows: an
 * uploaded image (multipart), or an `ImageInputReferenceParam` object
 * (JSON, or multipart `input_reference[image_url]`) with exactly one of
 * `image_url` (a fully qualified URL or a base64 data URL) or `file_id`.
 * A data URL carries its image and is checked like an upload; a URL or a
 * file id is never fetched (the emulator has no network and no Files API):
 * the service renders a still made from it (reference-still.ts).
 */
export type InputReference =
  /** Image bytes to check and store: an upload or a data URL. */
  | { readonly kind: 'image'; readonly bytes: Uint8Array; readonly declaredType: string }
  | { readonly kind: 'image_url'; readonly url: string }
  | { readonly kind: 'file_id'; readonly fileId: string };

const PARAM = 'input_reference';
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'];

/** The request's `input_reference`, or null when it has none. */
export function inputReferenceParam(body: BodyObject, limits: ApiLimits): Result<InputReference | null, ApiError> {
  const v = body[PARAM];
  if (v === undefined) return ok(null);
  if (isUploadedFile(v)) return ok({ kind: 'image', bytes: v.bytes, declaredType: mediaType(v.type) });
  if (!isBodyObject(v)) {
    return err(invalid(PARAM, `Invalid '${PARAM}': expected an image file (jpeg, png or webp) or an object with one of 'image_url' or 'file_id'.`, 'invalid_type'));
  }
  for (const key of Object.keys(v)) {
    if (key !== 'image_url' && key !== 'file_id') return err(invalid(`${PARAM}.${key}`, `Unknown parameter: '${PARAM}.${key}'.`, 'unknown_parameter'));
  }
  const url = v['image_url'];
  const fileId = v['file_id'];
  if ((url === undefined) === (fileId === undefined)) {
    return err(invalid(PARAM, `Invalid '${PARAM}': give exactly one of 'image_url' or 'file_id'.`));
  }
  return url !== undefined ? imageUrlParam(url, limits) : fileIdParam(fileId, limits);
}

function imageUrlParam(v: BodyValue, limits: ApiLimits): Result<InputReference, ApiError> {
  const param = `${PARAM}.image_url`;
  if (typeof v !== 'string') return err(invalid(param, `Invalid type for '${param}': expected a string.`, 'invalid_type'));
  const max = limits.imageUrl.maxLength;
  if (v.length > max) {
    return err(invalid(param, `Invalid '${param}': string too long. Expected a string with maximum length ${max}, but got a string with length ${v.length} instead.`, 'string_above_max_length'));
  }
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(v);
  if (data !== null) return ok({ kind: 'image', bytes: Buffer.from(data[2] ?? '', 'base64'), declaredType: (data[1] ?? '').toLowerCase() });
  if (!isFetchableUrl(v)) {
    return err(invalid(param, `Invalid '${param}': expected a fully qualified http(s) URL or a base64 data URL (data:image/png;base64,...).`, 'invalid_url'));
  }
  return ok({ kind: 'image_url', url: v });
}

function isFetchableUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '';
  } catch {
    return false;
  }
}

function fileIdParam(v: BodyValue | undefined, limits: ApiLimits): Result<InputReference, ApiError> {
  const param = `${PARAM}.file_id`;
  if (typeof v !== 'string') return err(invalid(param, `Invalid type for '${param}': expected a string.`, 'invalid_type'));
  const { minLength, maxLength, pattern } = limits.fileId;
  if (v.length < minLength || v.length > maxLength || !pattern.test(v)) {
    return err(invalid(param, `Invalid '${param}': expected the id of an uploaded file (file-..., ${minLength} to ${maxLength} characters), got ${JSON.stringify(v.slice(0, 40))}.`, 'invalid_file_id'));
  }
  return ok({ kind: 'file_id', fileId: v });
}

/** Why these image bytes cannot be the first frame of a `width`x`height` video, or null when they can. */
export function referenceImageProblem(bytes: Uint8Array, declaredType: string, width: number, height: number): ApiError | null {
  const header = readImageHeader(bytes);
  if (header === null || (declaredType !== '' && declaredType !== 'application/octet-stream' && !IMAGE_TYPES.includes(declaredType))) {
    const got = declaredType === '' ? 'an unrecognized file' : `'${declaredType}'`;
    return invalid(PARAM, `Invalid file type for '${PARAM}': expected image/jpeg, image/png or image/webp, got ${got}.`, 'unsupported_file_type');
  }
  if (header.width !== width || header.height !== height) {
    return invalid(PARAM, `Inpaint image must match the requested width and height: the image is ${header.width}x${header.height}, the video is ${width}x${height}.`);
  }
  return null;
}

function mediaType(type: string): string {
  return type.split(';')[0]?.trim().toLowerCase() ?? '';
}
