import { inspect } from 'node:util';
import OpenAI from 'openai';
import { err, ok, type Result } from '../core/result.js';
import { errorDiagnostic, type Diagnostic } from '../core/diagnostic.js';
import { LinkInTreeError } from '../core/link-free-tree.js';
import type { ProviderConfig } from '../manifest/manifest.js';
import { baseUrlProblem, splitBaseUrl } from '../manifest/provider-checks.js';
import { resolveApiKey, scrubSecret } from './api-key.js';
import type { startEmulatorBackend } from './emulator-backend.js';
import { RateGate, gatedFetch } from '../execute/rate-gate.js';
import { scrubbingFetch } from './scrubbing-fetch.js';

/**
 * A backend is an SDK client plus what the executor needs to know about
 * where it points: whether jobs cost money (the emulator is free, so it never
 * asks for confirmation) and how fast it is (poll bounds). `close()` stops an
 * in-process emulator; it is a no-op for a remote API.
 */
export interface Backend {
  readonly kind: 'openai' | 'emulator';
  readonly client: OpenAI;
  /** True when jobs cost nothing (the emulator). */
  readonly free: boolean;
  /** The base URL, for messages (never the key). */
  readonly baseURL: string;
  /** The key in use, kept only to scrub it from messages. */
  readonly secret: string | undefined;
  /** Shared 429 back-off: every request of this client waits on it. */
  readonly rateGate: RateGate;
  readonly pollMinMs: number;
  readonly pollMaxMs: number;
  /** Counts of requests, when the backend can tell (the in-process emulator). */
  readonly stats?: () => unknown;
  close(): Promise<void>;
}

export interface BackendOptions {
  readonly kind: 'openai' | 'emulator';
  /** `--base-url`, overrides the manifest and OPENAI_BASE_URL. */
  readonly baseURL: string | undefined;
  readonly provider: ProviderConfig | undefined;
  readonly projectDir: string;
  readonly env: NodeJS.ProcessEnv;
  /**
   * The run needs no request (every output comes from the local cache), so
   * a missing key is not an error: `pull` in CI restores outputs without
   * one. Should a request happen anyway (the cache lost an object since
   * planning), it is answered locally with a 401 naming the missing key.
   */
  readonly keyOptional?: boolean;
}

const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** Placeholder key for the emulator, which accepts any Bearer token. */
const EMULATOR_KEY = 'sk-vidbuild-emulator';
/**
 * The shortest wait between polls of one job on this machine. It matters
 * when a poll aimed at a job's expected end came a moment early: the next
 * one goes at what is left of the job, not a fixed tenth of a second later.
 * The provider's `openai-poll-after-ms` still allows only one such look per
 * interval (poll-interval.ts), so this is never a tight loop.
 */
const LOCAL_POLL_MIN_MS = 20;

export async function createBackend(options: BackendOptions): Promise<Result<Backend, Diagnostic>> {
  if (options.kind === 'emulator') {
    let emu: Awaited<ReturnType<typeof startEmulatorBackend>>;
    try {
      // Loaded only here: the emulator is two dozen modules that a run against a provider never needs.
      const { startEmulatorBackend: start } = await import('./emulator-backend.js');
      emu = await start(options.projectDir, options.env);
    } catch (e: unknown) {
      // A symlink in its state folder: refused in its own words (code and path), as the cache's are.
      if (e instanceof LinkInTreeError) return err(e.diagnostics[0] ?? errorDiagnostic('emulator-start', e.message));
      // e.g. a standalone `vidbuild emulator` already serves this project's state directory.
      return err(errorDiagnostic('emulator-start', `--backend emulator: ${e instanceof Error ? e.message : String(e)}`));
    }
    const rateGate = new RateGate();
    const client = new OpenAI({ apiKey: EMULATOR_KEY, baseURL: emu.baseURL, maxRetries: 2, fetch: gatedFetch(rateGate), logger: stderrLogger(undefined) });
    return ok({
      rateGate,
      kind: 'emulator',
      client,
      free: true,
      baseURL: emu.baseURL,
      secret: undefined,
      pollMinMs: LOCAL_POLL_MIN_MS,
      pollMaxMs: 5_000,
      stats: () => emu.stats(),
      close: () => emu.stop(),
    });
  }
  const key = resolveApiKey(options.env, options.provider?.apiKeyEnv);
  if (!key.ok && options.keyOptional !== true) return err(key.error);
  const envBaseURL = nonEmpty(options.env['OPENAI_BASE_URL']);
  const baseURL = options.baseURL ?? options.provider?.baseURL ?? envBaseURL ?? OPENAI_DEFAULT_BASE_URL;
  // --base-url and provider.baseURL are checked where they are read; the
  // environment is checked here, before a request fails after its retries.
  const envProblem = baseURL === envBaseURL ? baseUrlProblem(baseURL) : undefined;
  if (envProblem !== undefined) return err(errorDiagnostic('bad-base-url', `OPENAI_BASE_URL ${envProblem}`));
  if (key.ok) {
    // The key where vidbuild does not put it: in a committed query or header value, it would go out (and be logged) in the clear.
    const split = splitBaseUrl(baseURL).query;
    const where = [
      ...Object.entries({ ...options.provider?.query, ...split }).map(([k, v]) => [`query parameter \`${k}\``, v] as const),
      ...Object.entries(options.provider?.headers ?? {}).map(([k, v]) => [`header \`${k}\``, v] as const),
    ].find(([, v]) => v === key.value || (key.value.length >= 12 && v.includes(key.value)));
    if (where !== undefined) {
      return err(errorDiagnostic('key-in-manifest', `the provider's ${where[0]} (in the manifest or --base-url) holds the API key, which would go out in the clear; remove it: vidbuild sends the key from the environment, as Authorization or in the header \`apiKeyHeader\` names`));
    }
  }
  const rateGate = new RateGate();
  const wire = providerWire(baseURL, options.provider, key.ok ? key.value : undefined);
  const client = key.ok
    ? new OpenAI({ apiKey: key.value, ...wire, maxRetries: 2, fetch: gatedFetch(rateGate, scrubbingFetch(key.value)), logger: stderrLogger(key.value) })
    : new OpenAI({ apiKey: 'no-key', ...wire, maxRetries: 0, fetch: unauthorized(key.error.message), logger: stderrLogger(undefined) });
  const local = isLoopback(baseURL);
  return ok({
    rateGate,
    kind: 'openai',
    client,
    free: false,
    baseURL,
    secret: key.ok ? key.value : undefined,
    // A provider on this machine (a standalone emulator) answers in seconds;
    // the real API takes minutes per job and asks for 10–20 s between polls.
    pollMinMs: local ? LOCAL_POLL_MIN_MS : 2_000,
    pollMaxMs: local ? 5_000 : 15_000,
    close: async () => {},
  });
}

/**
 * How requests reach the provider: the base URL without its query (the SDK
 * appends paths to it as text), that query and `provider.query` on every
 * request, `provider.headers`, and the key in `provider.apiKeyHeader` in
 * place of `Authorization: Bearer` (Azure OpenAI's `api-key`). A provider
 * that reads its own header must not also receive the key as a Bearer
 * token it would log or forward, so Authorization is removed there.
 */
function providerWire(
  baseURL: string,
  provider: ProviderConfig | undefined,
  key: string | undefined,
): { baseURL: string; defaultQuery?: Record<string, string>; defaultHeaders?: Record<string, string | null> } {
  const split = splitBaseUrl(baseURL);
  const query = { ...provider?.query, ...split.query };
  const headers: Record<string, string | null> = { ...provider?.headers };
  const header = provider?.apiKeyHeader;
  if (header !== undefined && header.toLowerCase() !== 'authorization') {
    if (key !== undefined) headers[header] = key;
    headers['Authorization'] = null;
  }
  return {
    baseURL: split.baseURL,
    ...(Object.keys(query).length === 0 ? {} : { defaultQuery: query }),
    ...(Object.keys(headers).length === 0 ? {} : { defaultHeaders: headers }),
  };
}

/** A fetch that never leaves the machine: every request gets the 401 a keyless request would. */
function unauthorized(message: string): typeof fetch {
  return async () =>
    new Response(JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: 'missing_api_key' } }), {
      status: 401,
      headers: { 'content-type': 'application/json' },
    });
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function isLoopback(baseURL: string): boolean {
  try {
    const host = new URL(baseURL).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
  } catch {
    return false;
  }
}

/**
 * The SDK's own log (OPENAI_LOG=debug) goes to stderr, scrubbed: its default
 * is console.log, which put multi-line dumps into stdout, and `--json`
 * promises one JSON document per line there.
 */
function stderrLogger(secret: string | undefined): NonNullable<ConstructorParameters<typeof OpenAI>[0]>['logger'] {
  const line = (level: string) => (...args: unknown[]): void => {
    const text = args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 4, breakLength: Infinity }))).join(' ');
    process.stderr.write(`${scrubSecret(`openai ${level}: ${text}`, secret)}\n`);
  };
  return { error: line('error'), warn: line('warn'), info: line('info'), debug: line('debug') };
}
