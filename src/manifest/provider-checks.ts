/**
 * Checks of `provider` the schema's patterns cannot make: a base URL the SDK
 * can actually use, and an `apiKeyEnv` that is a name rather than the key.
 * Messages never repeat a secret: a key pasted into the manifest, or a
 * password in a URL, is not echoed to a terminal or a CI log.
 */

/** Why `baseURL` cannot be used (a sentence fragment after "`baseURL` "), or undefined. */
export function baseUrlProblem(value: string): string | undefined {
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
    return 'must not contain a user name or password; set `apiKeyEnv` to the environment variable that holds the key';
  }
  // The SDK appends paths to the base URL as text: `/v1?x=1` + `/videos` is not `/v1/videos?x=1`.
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(value)) {
    return 'must not have a query (?...) or fragment (#...): request paths are appended to it';
  }
  return undefined;
}

/** The URL with any user name and password replaced, for messages. */
export function redactUrl(value: string): string {
  return value.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, '$1***@');
}

/** Whether an `apiKeyEnv` value looks like an API key itself rather than a variable name. */
export function looksLikeApiKey(value: string): boolean {
  return /^(?:sk|rk|pk|key)[-_]/i.test(value) || (value.length >= 32 && /[0-9]/.test(value) && /[a-z]/.test(value) && /[A-Z]/.test(value));
}
