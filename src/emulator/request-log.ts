import { isUploadedFile, type BodyObject, type BodyValue } from './request-body.js';

/**
 * The last requests that asked for a change (`POST …`), as the emulator
 * understood them, so a test can assert on what a client actually sent
 * ("the reference went out as JSON `{image_url}`, no file was uploaded")
 * rather than on what it meant to send. Uploaded files are summarized by
 * name, type and size, and a string longer than 4 KiB (a base64 data URL
 * may be 20 MB) by its start and length; at most 200 requests are kept, so
 * a long soak does not grow it.
 */
export interface LoggedRequest {
  /** The route's stats key, e.g. `POST /videos`. */
  readonly route: string;
  /** `json`, `multipart`, or the content type as sent. */
  readonly encoding: string;
  readonly body: LoggedValue;
}

export type LoggedValue =
  | string
  | number
  | boolean
  | null
  | { readonly file: string; readonly type: string; readonly bytes: number }
  | readonly LoggedValue[]
  | { readonly [key: string]: LoggedValue };

const KEEP = 200;
const LONG_STRING = 4096;

export class RequestLog {
  readonly #entries: LoggedRequest[] = [];

  add(route: string, contentType: string | undefined, body: BodyObject): void {
    const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const encoding = type === 'application/json' ? 'json' : type === 'multipart/form-data' ? 'multipart' : type;
    this.#entries.push({ route, encoding, body: summarize(body) });
    if (this.#entries.length > KEEP) this.#entries.shift();
  }

  entries(): readonly LoggedRequest[] {
    return [...this.#entries];
  }

  clear(): void {
    this.#entries.length = 0;
  }
}

function summarize(v: BodyValue): LoggedValue {
  if (isUploadedFile(v)) return { file: v.name, type: v.type, bytes: v.bytes.length };
  if (Array.isArray(v)) return v.map(summarize);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, summarize(x)]));
  if (typeof v === 'string' && v.length > LONG_STRING) return `${v.slice(0, 256)}…(${v.length} characters)`;
  return v;
}
