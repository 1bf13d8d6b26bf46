/**
 * An error answered in OpenAI's shape:
 * `{"error": {"message", "type", "param", "code"}}` with an HTTP status.
 * Handlers return these as values; the server writes them.
 */
export interface ApiError {
  readonly status: number;
  readonly message: string;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
}

export function invalid(param: string | null, message: string, code = 'invalid_value'): ApiError {
  return { status: 400, message, type: 'invalid_request_error', param, code };
}

export function missing(param: string): ApiError {
  return invalid(param, `Missing required parameter: '${param}'.`, 'missing_required_parameter');
}

export function notFound(message: string): ApiError {
  return { status: 404, message, type: 'invalid_request_error', param: null, code: null };
}

export function errorBody(e: ApiError): { error: { message: string; type: string; param: string | null; code: string | null } } {
  return { error: { message: e.message, type: e.type, param: e.param, code: e.code } };
}
