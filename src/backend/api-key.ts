import { err, ok, type Result } from '../core/result.js';
import { errorDiagnostic, type Diagnostic } from '../core/diagnostic.js';

/**
 * The API key lives only in the environment and only in memory: it is never
 * printed, logged or written. Messages that might echo it (an SDK error that
 * quotes a header, a provider that reflects the request) go through
 * `scrubSecret` before they reach the user.
 */
export const DEFAULT_API_KEY_ENV = 'OPENAI_API_KEY';

export function resolveApiKey(
  env: NodeJS.ProcessEnv,
  apiKeyEnv: string | undefined,
): Result<string, Diagnostic> {
  const name = apiKeyEnv ?? DEFAULT_API_KEY_ENV;
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    return err(
      errorDiagnostic(
        'missing-api-key',
        `no API key: set ${name}, or run offline with --backend emulator`,
      ),
    );
  }
  const key = value.trim();
  const problem = keyProblem(key);
  if (problem !== undefined) {
    // Refused before any request: fetch cannot send such a header, and the
    // failure looked like a lost response, retried and reconciled for a minute.
    return err(errorDiagnostic('bad-api-key', `${name} contains ${problem}, which no API key has (keys are printable ASCII): set it again`));
  }
  return ok(key);
}

/**
 * What makes `key` unsendable in an HTTP header, never quoting it: which
 * kind of character and where (a control character is shown escaped, as it
 * is not part of any real key; any other is not shown at all).
 */
function keyProblem(key: string): string | undefined {
  const chars = [...key];
  for (const [i, ch] of chars.entries()) {
    const code = ch.codePointAt(0) ?? 0;
    const at = `character ${i + 1} of ${chars.length}`;
    if (ch === '\n' || ch === '\r') return `a line break (${at})`;
    if (ch === '\t') return `a tab (${at})`;
    if (code < 0x20 || code === 0x7f) return `a control character (\\x${code.toString(16).padStart(2, '0')}, ${at})`;
    if (code > 0x7e) return `a non-ASCII character (${at})`;
  }
  return undefined;
}

/** Replaces every occurrence of the secret (and of long prefixes of it) with `***`. */
export function scrubSecret(text: string, secret: string | undefined): string {
  if (secret === undefined || secret.length < 4) return text;
  let out = text;
  // The key as sent in a URL too (a provider echoing the request's URL): percent-encoded, and form-encoded (space as +).
  const forms = [...new Set([secret, encodeURIComponent(secret), new URLSearchParams({ k: secret }).toString().slice(2)])];
  for (const form of forms) out = out.split(form).join('***');
  // SDKs sometimes print a truncated key ("sk-abc...xyz"); hide any 8+ char prefix too (after the whole forms, which share it).
  for (const form of forms) if (form.length >= 12) out = out.split(form.slice(0, 8)).join('***');
  return out;
}
