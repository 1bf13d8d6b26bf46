import type { LengthLimit } from '../core/api-limits.js';
import { err, ok, type Result } from '../core/result.js';
import { invalid, missing, type ApiError } from './api-error.js';
import { isBodyObject, isUploadedFile, type BodyObject, type BodyValue, type UploadedFile } from './request-body.js';

/**
 * Readers for request parameters that answer like the API does: the error
 * names the offending `param` and says what was expected.
 */

export function rejectUnknown(body: BodyObject, allowed: readonly string[]): ApiError | null {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) return invalid(key, `Unknown parameter: '${key}'.`, 'unknown_parameter');
  }
  return null;
}

const typeName = (v: BodyValue): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : isUploadedFile(v) ? 'a file' : typeof v === 'number' ? (Number.isInteger(v) ? 'an integer' : 'a number') : typeof v === 'object' ? 'an object' : `a ${typeof v}`;

export function requiredString(body: BodyObject, param: string): Result<string, ApiError> {
  const v = body[param];
  if (v === undefined || v === '') return err(missing(param));
  if (typeof v !== 'string') return err(invalid(param, `Invalid type for '${param}': expected a string, but got ${typeName(v)} instead.`, 'invalid_type'));
  return ok(v);
}

/**
 * A required string within the spec's lengths (data/api-limits.json), counted
 * in characters as the API counts them; enforced so a request that only
 * works on the emulator is caught here.
 */
export function limitedString(body: BodyObject, param: string, limit: LengthLimit): Result<string, ApiError> {
  const v = requiredString(body, param);
  if (!v.ok) return v;
  const length = [...v.value].length;
  if (length > limit.maxLength) {
    return err(
      invalid(
        param,
        `Invalid '${param}': string too long. Expected a string with maximum length ${limit.maxLength}, but got a string with length ${length} instead.`,
        'string_above_max_length',
      ),
    );
  }
  if (length < limit.minLength) {
    return err(invalid(param, `Invalid '${param}': string too short. Expected a string with minimum length ${limit.minLength}, but got a string with length ${length} instead.`, 'string_below_min_length'));
  }
  return v;
}

export function optionalString(body: BodyObject, param: string): Result<string | null, ApiError> {
  const v = body[param];
  if (v === undefined) return ok(null);
  return requiredString(body, param);
}

/** A string enum such as `seconds`: an integer is a type error, as in the API. */
export function optionalEnum(body: BodyObject, param: string, allowed: readonly string[]): Result<string | null, ApiError> {
  const v = body[param];
  if (v === undefined) return ok(null);
  const list = allowed.map((a) => `'${a}'`).join(', ');
  if (typeof v !== 'string') {
    return err(invalid(param, `Invalid type for '${param}': expected one of ${list}, but got ${typeName(v)} instead.`, 'invalid_type'));
  }
  if (!allowed.includes(v)) return err(invalid(param, `Invalid value: '${v}'. Supported values are: ${list}.`));
  return ok(v);
}

/** `video` as either an uploaded file or a reference `{id}`. */
export type VideoInput = { readonly kind: 'file'; readonly file: UploadedFile } | { readonly kind: 'id'; readonly id: string };

export function videoInput(body: BodyObject, param: string): Result<VideoInput, ApiError> {
  const v = body[param];
  if (v === undefined) return err(missing(param));
  if (isUploadedFile(v)) return ok({ kind: 'file', file: v });
  if (isBodyObject(v) && typeof v['id'] === 'string' && v['id'] !== '') return ok({ kind: 'id', id: v['id'] });
  return err(invalid(param, `Invalid '${param}': expected an uploaded video file or an object {"id": "video_..."}.`, 'invalid_type'));
}

/** `characters: [{id}]` from JSON, or from multipart `characters[][id]` / `characters[0][id]`. */
export function characterIds(body: BodyObject, param: string, max: number): Result<readonly string[], ApiError> {
  const v = body[param];
  if (v === undefined) return ok([]);
  const items = Array.isArray(v) ? v : isBodyObject(v) ? Object.values(v) : null;
  if (items === null) return err(invalid(param, `Invalid type for '${param}': expected an array of objects {"id": "char_..."}.`, 'invalid_type'));
  const ids: string[] = [];
  for (const item of items) {
    const id: BodyValue | undefined = isBodyObject(item) ? item['id'] : undefined;
    if (typeof id !== 'string' || id === '') return err(invalid(param, `Invalid '${param}': each item must be an object {"id": "char_..."}.`, 'invalid_type'));
    ids.push(id);
  }
  if (ids.length > max) return err(invalid(param, `Too many characters: at most ${max} per video (got ${ids.length}).`));
  return ok(ids);
}
