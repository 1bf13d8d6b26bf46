import type { IncomingMessage } from 'node:http';
import type { ApiError } from './api-error.js';

/**
 * With `apiKeyHeader`, the key must be in that header and nowhere else
 * (Azure's 401 when it is missing); null when the request is acceptable.
 * Without it, the server checks for `Authorization: Bearer`.
 */
export function credentialProblem(req: IncomingMessage, apiKeyHeader: string | undefined): ApiError | null {
  if (apiKeyHeader === undefined) return null;
  const value = req.headers[apiKeyHeader.toLowerCase()];
  if (typeof value !== 'string' || value.trim() === '') {
    return {
      status: 401,
      message: `Access denied due to missing subscription key. Make sure to include the key in the '${apiKeyHeader}' header when making API calls.`,
      type: 'invalid_request_error',
      param: null,
      code: 'missing_api_key',
    };
  }
  if (req.headers.authorization !== undefined) {
    return {
      status: 400,
      message: `The key was sent in both '${apiKeyHeader}' and Authorization; this emulator (as configured) takes it in '${apiKeyHeader}' only.`,
      type: 'invalid_request_error',
      param: null,
      code: 'duplicate_credentials',
    };
  }
  return null;
}
