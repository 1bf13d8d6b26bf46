import type { IncomingMessage } from 'node:http';
import { err, ok, type Result } from '../core/result.js';
import { invalid, type ApiError } from './api-error.js';

/**
 * Request bodies, JSON or multipart, normalized to one tree so handlers read
 * `video.id` the same way whether the SDK sent `{"video":{"id":…}}` or the
 * multipart field `video[id]`. Uploaded files become `UploadedFile` leaves.
 */

export interface UploadedFile {
  readonly kind: 'file';
  readonly name: string;
  /** The part's declared content type ('' when absent). */
  readonly type: string;
  readonly bytes: Uint8Array;
}

export type BodyValue = string | number | boolean | null | UploadedFile | readonly BodyValue[] | BodyObject;
export interface BodyObject {
  readonly [key: string]: BodyValue;
}

export function isUploadedFile(v: unknown): v is UploadedFile {
  return typeof v === 'object' && v !== null && 'kind' in v && v.kind === 'file' && 'bytes' in v;
}

export function isBodyObject(v: BodyValue | undefined): v is BodyObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isUploadedFile(v);
}

const tooLarge = (limit: number): ApiError => ({
  status: 413,
  message: `Request body too large (limit ${limit} bytes).`,
  type: 'invalid_request_error',
  param: null,
  code: 'request_too_large',
});

export async function readBody(req: IncomingMessage, limit: number): Promise<Result<Buffer, ApiError>> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) return err(tooLarge(limit));
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += b.length;
    if (size > limit) return err(tooLarge(limit));
    chunks.push(b);
  }
  return ok(Buffer.concat(chunks));
}

export async function parseBody(contentType: string | undefined, body: Buffer): Promise<Result<BodyObject, ApiError>> {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (body.length === 0) return ok({});
  if (type === 'multipart/form-data') return parseMultipart(contentType ?? '', body);
  if (type === 'application/json' || type === '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return err(invalid(null, 'We could not parse the JSON body of your request.', 'invalid_json'));
    }
    if (!isJsonObject(parsed)) return err(invalid(null, 'The request body must be a JSON object.', 'invalid_json'));
    return ok(parsed);
  }
  return err(invalid(null, `Unsupported content-type '${type}'; send application/json or multipart/form-data.`, 'unsupported_content_type'));
}

function isJsonObject(v: unknown): v is BodyObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function parseMultipart(contentType: string, body: Buffer): Promise<Result<BodyObject, ApiError>> {
  let form: FormData;
  try {
    form = await new Request('http://emulator.local/', { method: 'POST', headers: { 'content-type': contentType }, body }).formData();
  } catch {
    return err(invalid(null, 'We could not parse the multipart body of your request.', 'invalid_multipart'));
  }
  const root: Record<string, unknown> = {};
  for (const [key, value] of form.entries()) {
    const leaf: BodyValue =
      typeof value === 'string'
        ? value
        : { kind: 'file', name: value.name, type: value.type, bytes: new Uint8Array(await value.arrayBuffer()) };
    const placed = place(root, key, leaf);
    if (!placed) return err(invalid(key, `Malformed form field name '${key}'.`, 'invalid_multipart'));
  }
  return ok(toBody(root));
}

/**
 * Puts `value` at a bracketed path: `video[id]` → {video:{id}},
 * `characters[][id]` → {characters:[{id}]} (a new array element starts when
 * the last one already has that key, as the SDK repeats the whole path).
 * Field names come from the client, so only own properties are followed and
 * `__proto__` is refused: `__proto__[kind]=file` once walked into
 * Object.prototype and made every object in the process look like an upload.
 */
function place(root: Record<string, unknown>, key: string, value: BodyValue): boolean {
  const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (m === null) return false;
  const segments = [m[1] ?? '', ...[...(m[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((x) => x[1] ?? '')];
  if (segments.includes('__proto__')) return false;
  let node: unknown = root;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] ?? '';
    const last = i === segments.length - 1;
    const nextSeg = segments[i + 1];
    if (Array.isArray(node)) {
      if (seg !== '') return false;
      if (last) {
        node.push(value);
        return true;
      }
      const tail: unknown = node[node.length - 1];
      if (nextSeg !== undefined && nextSeg !== '' && isRecord(tail) && !Object.hasOwn(tail, nextSeg)) {
        node = tail;
      } else {
        const fresh: Record<string, unknown> = {};
        node.push(fresh);
        node = fresh;
      }
      continue;
    }
    if (!isRecord(node) || seg === '') return false;
    if (last) {
      node[seg] = value;
      return true;
    }
    if (!Object.hasOwn(node, seg)) node[seg] = nextSeg === '' ? [] : {};
    node = node[seg];
  }
  return false;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isUploadedFile(v);
}

function toBody(v: unknown): BodyObject {
  const out: Record<string, BodyValue> = {};
  if (!isRecord(v)) return out;
  for (const [k, x] of Object.entries(v)) out[k] = toValue(x);
  return out;
}

function toValue(v: unknown): BodyValue {
  if (typeof v === 'string' || isUploadedFile(v)) return v;
  if (Array.isArray(v)) return v.map(toValue);
  return toBody(v);
}
