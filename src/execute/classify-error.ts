import { APIConnectionError, APIError, APIUserAbortError } from 'openai';

/**
 * What a failed paid call means for billing. The distinction drives the
 * exactly-once logic:
 *
 * - `rate-limited` (429): the server did not accept the job; safe to send
 *   again after the back-off.
 * - `refused` (400/401/403/404/422…): the server rejected the request; the
 *   target fails with the API's code and message; sending again would fail
 *   the same way.
 * - `unknown` (connection reset, timeout, 408, 409, 5xx): the job may or may
 *   not exist server-side. Never resend blindly: reconcile against
 *   `videos.list` first.
 */
export type CallFailure =
  | { readonly kind: 'rate-limited'; readonly message: string }
  | { readonly kind: 'refused'; readonly status: number; readonly code: string; readonly message: string }
  | { readonly kind: 'unknown'; readonly message: string };

export function classifyCallError(e: unknown): CallFailure {
  if (e instanceof APIUserAbortError) return { kind: 'unknown', message: 'request aborted' };
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
