/**
 * Checks of `provider` the schema's patterns cannot make: a base URL the SDK
 * can actually use, and an `apiKeyEnv` that is a name rather than the key.
 * Messages never repeat a secret: a key pasted into the manifest, or a
 * password in a URL, is not echoed to a terminal or a CI log.
 */

const API_KEY_ADVICE = 'set `apiKeyEnv` to the environment variable that holds the key';
/** For `remote.endpoint`: the S3 SDK takes its credentials from the AWS chain, not from `apiKeyEnv`. */
export const S3_CREDENTIALS_ADVICE = 'S3 credentials come from the AWS environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE), never from the manifest';

/**
 * Why `baseURL` (or another endpoint URL) cannot be used (a sentence
 * fragment after "`baseURL` "), or undefined. `credentialAdvice` says where
 * a credential goes instead.
 */
export function baseUrlProblem(value: string, credentialAdvice: string = API_KEY_ADVICE): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a valid URL (got ${JSON.stringify(redactUrl(value))}; expected e.g. https://api.example.com/v1)`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `must be an http(s) URL (got ${url.protocol}; expected e.g. https://api.example.com/v1)`;
  }
  // fetch refuses URLs with credentials, so every request would fail.
  if (url.username !== '' || url.password !== '') {
    return `must not contain a user name or password; ${credentialAdvice}`;
  }
  // A query (Azure's `?api-version=...`) is split off and sent with every
  // request (`splitBaseUrl`); a fragment means nothing to a server.
  if (url.hash !== '' || value.includes('#')) {
    return 'must not have a fragment (#...): request paths are appended to it';
  }
  // A URL is printed in messages and committed in the manifest: no secret in it.
  for (const name of url.searchParams.keys()) {
    if (CREDENTIAL_PARAM.test(name)) {
      return `must not carry a credential in its query (\`${name}\`); ${credentialAdvice === API_KEY_ADVICE ? `${API_KEY_ADVICE}, and \`apiKeyHeader\` to the header it goes in` : credentialAdvice}`;
    }
  }
  return undefined;
}

/**
 * A base URL as the SDK takes it: the SDK appends request paths to it as
 * text (`/v1?x=1` + `/videos` is not `/v1/videos?x=1`), so its query is
 * taken off and sent as the query of every request instead. Call only on a
 * URL `baseUrlProblem` accepted.
 */
export function splitBaseUrl(value: string): { readonly baseURL: string; readonly query: Readonly<Record<string, string>> } {
  const q = value.indexOf('?');
  if (q < 0) return { baseURL: value, query: {} };
  return { baseURL: value.slice(0, q), query: Object.fromEntries(new URLSearchParams(value.slice(q + 1))) };
}

/**
 * Headers that carry credentials. The manifest is committed to git: a
 * secret there is a leaked secret, so these are refused in
 * `provider.headers`; the key goes in an environment variable
 * (`apiKeyEnv`), sent in the header `apiKeyHeader` names.
 */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'api-key', 'x-api-key', 'ocp-apim-subscription-key']);

/** Headers the SDK and HTTP set themselves; overriding them breaks requests. */
const TRANSPORT_HEADERS = new Set(['host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'accept-encoding']);

/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Why a header name cannot be `apiKeyHeader` (a fragment after the name), or undefined. */
export function apiKeyHeaderProblem(name: string): string | undefined {
  if (!HEADER_NAME.test(name)) return 'is not a valid HTTP header name';
  if (TRANSPORT_HEADERS.has(name.toLowerCase())) return 'is set by HTTP itself; name the header your provider reads the key from, e.g. api-key';
  return undefined;
}

/** Why `provider.headers` cannot hold this header (a sentence fragment after the header's name), or undefined. */
export function extraHeaderProblem(name: string, value: string, apiKeyHeader: string | undefined): string | undefined {
  if (!HEADER_NAME.test(name)) return 'is not a valid HTTP header name';
  const lower = name.toLowerCase();
  if (CREDENTIAL_HEADERS.has(lower) || lower === apiKeyHeader?.toLowerCase()) {
    return 'carries a credential, and the manifest is committed: put the key in an environment variable, name it with `apiKeyEnv`, and set `apiKeyHeader` to this header';
  }
  if (TRANSPORT_HEADERS.has(lower)) return 'is set by HTTP itself and cannot be overridden';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) return 'has a control character or line break in its value';
  if (looksLikeApiKey(value)) return 'looks like a secret; put it in an environment variable and name it with `apiKeyEnv` (and `apiKeyHeader`)';
  return undefined;
}

/**
 * Why `provider.query` cannot hold this parameter (a fragment after its
 * name), or undefined: as in `baseURL`'s query, a credential is refused,
 * since the manifest is committed and the query is sent (and logged by
 * proxies) with every request.
 */
export function queryParamProblem(name: string, value: string): string | undefined {
  if (CREDENTIAL_PARAM.test(name) || looksLikeApiKey(value)) {
    return 'carries a credential, and the manifest is committed: put the key in an environment variable, name it with `apiKeyEnv`, and set `apiKeyHeader` to the header it goes in';
  }
  return undefined;
}

/** Query parameter names that carry a credential (Google's `key`, SAS `sig`, `access_token`, ...). */
export const CREDENTIAL_PARAM = /^(?:key|api[-_]?key|apikey|token|access[-_]?token|auth|sig|signature|secret|password|subscription-key)$/i;

/** The URL with any user name and password replaced, for messages. */
export function redactUrl(value: string): string {
  return value.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, '$1***@');
}

/** Whether an `apiKeyEnv` value looks like an API key itself rather than a variable name. */
export function looksLikeApiKey(value: string): boolean {
  return /^(?:sk|rk|pk|key)[-_]/i.test(value) || (value.length >= 32 && /[0-9]/.test(value) && /[a-z]/.test(value) && /[A-Z]/.test(value));
}
