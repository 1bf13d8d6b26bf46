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
  return ok(value.trim());
}

/** Replaces every occurrence of the secret (and of long prefixes of it) with `***`. */
export function scrubSecret(text: string, secret: string | undefined): string {
  if (secret === undefined || secret.length < 4) return text;
  let out = text.split(secret).join('***');
  // SDKs sometimes print a truncated key ("sk-abc...xyz"); hide any 8+ char prefix too.
  if (secret.length >= 12) out = out.split(secret.slice(0, 8)).join('***');
  return out;
}
