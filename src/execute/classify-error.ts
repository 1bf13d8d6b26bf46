import { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { UploadReadError } from './send-job.js';

/**
 * What a failed paid call means for billing. The distinction drives the
 * exactly-once logic:
 *
 * - `rate-limited` (429): the server did not accept the job; safe to send
 *   again after the back-off.
 * - `refused` (400/401/403/404/422…): the server rejected the request; the
 *   target fails with the API's code and message; sending again would fail
 *   the same way. Also a file to upload that cannot be read (status 0): the
 *   request never left.
 * - `not-sent` (connection refused, host not found, blocked port, connect
 *   timeout, TLS failure): no connection was ever established, so not one
 *   byte of the request left this machine and nothing can have been billed.
 *   Retrying will not help soon; fail fast and say where we tried to go.
 * - `unknown` (connection reset, timeout, 408, 409, 5xx): the job may or may
 *   not exist server-side. Never resend blindly: reconcile against
 *   `videos.list` first.
 */
export type CallFailure =
  | { readonly kind: 'rate-limited'; readonly message: string }
  | { readonly kind: 'not-sent'; readonly code: string; readonly message: string }
  | { readonly kind: 'refused'; readonly status: number; readonly code: string; readonly message: string }
  | { readonly kind: 'unknown'; readonly message: string };

export function classifyCallError(e: unknown): CallFailure {
  // A file to upload could not be read: the request never left, like a refusal.
  if (e instanceof UploadReadError) return { kind: 'refused', status: 0, code: 'input-unreadable', message: e.message };
  if (e instanceof APIUserAbortError) return { kind: 'unknown', message: 'request aborted' };
  const unconnected = connectFailureOf(e);
  if (unconnected !== undefined) return { kind: 'not-sent', code: unconnected.code, message: unconnected.message };
  if (e instanceof APIConnectionError) return { kind: 'unknown', message: e.message };
  if (e instanceof APIError) {
    const status = e.status ?? 0;
    if (status === 429) return { kind: 'rate-limited', message: apiMessage(e) };
    if (status === 408 || status === 409 || status >= 500 || status === 0) {
      return { kind: 'unknown', message: `HTTP ${status}: ${apiMessage(e)}` };
    }
    return { kind: 'refused', status, code: apiCode(e) ?? `http_${status}`, message: apiMessage(e) };
  }
  if (e instanceof Error && isNetworkError(e)) return { kind: 'unknown', message: e.message };
  return { kind: 'unknown', message: e instanceof Error ? e.message : String(e) };
}

/** The API's `error.code` (or `type`), when the body had one. */
export function apiCode(e: APIError): string | undefined {
  if (typeof e.code === 'string' && e.code !== '') return e.code;
  if (typeof e.type === 'string' && e.type !== '') return e.type;
  return undefined;
}

function apiMessage(e: APIError): string {
  const err = e.error;
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string') {
    return err.message;
  }
  return e.message;
}

function isNetworkError(e: Error): boolean {
  const code = 'code' in e ? e.code : undefined;
  return typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_)/.test(code);
}

/**
 * Failures that happen before a connection exists (DNS, connect, TLS
 * handshake). Node's fetch wraps them: APIConnectionError → TypeError('fetch
 * failed') → Error{code}; happy-eyeballs connects add an AggregateError. A
 * reset or timeout after connecting is deliberately NOT here: the request
 * may have reached the server.
 */
const CONNECT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function connectFailureOf(e: unknown): { readonly code: string; readonly message: string } | undefined {
  let cur: unknown = e;
  for (let depth = 0; depth < 6 && cur instanceof Error; depth++) {
    const code = 'code' in cur && typeof cur.code === 'string' ? cur.code : undefined;
    if (code !== undefined && CONNECT_CODES.has(code)) return { code, message: cur.message };
    // undici refuses ports browsers block (fetch spec "bad port") before connecting.
    if (cur.message === 'bad port') return { code: 'bad-port', message: 'the port is blocked by fetch (bad port)' };
    if (cur instanceof AggregateError) {
      for (const inner of cur.errors) {
        const found = connectFailureOf(inner);
        if (found !== undefined) return found;
      }
    }
    cur = cur.cause;
  }
  return undefined;
}

/**
 * A one-line description of a failed (free) call for a person: a connection
 * that never happened names where we tried to go, instead of the SDK's bare
 * "Connection error.".
 */
export function describeCallError(e: unknown, baseURL: string): string {
  const unconnected = connectFailureOf(e);
  if (unconnected !== undefined) return `could not connect to ${baseURL} (${unconnected.code})`;
  return e instanceof Error ? e.message : String(e);
}
