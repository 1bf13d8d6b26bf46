import { setMaxListeners } from 'node:events';
import { createReadStream } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiLimits } from '../core/api-limits.js';
import { unreachable } from '../core/unreachable.js';
import { errorBody, notFound, type ApiError } from './api-error.js';
import { loadCapabilities, withExtraSizes } from './capabilities.js';
import { FaultInjector, parseFaults, type Fault, type FaultConfig, type FaultsInput } from './faults.js';
import { credentialProblem } from './credential-check.js';
import { RateWindow } from './rate-window.js';
import { RequestLog, type LoggedRequest } from './request-log.js';
import { RenderCache } from './render-cache.js';
import { renderToolsProblem } from './ffmpeg.js';
import { parseBody, readBody, type BodyObject } from './request-body.js';
import { StateStore } from './state-store.js';
import { VideoService, type ContentFile } from './video-service.js';
import { ok, type Result } from '../core/result.js';

/**
 * A local emulator of the OpenAI Videos API on 127.0.0.1: the official SDK
 * (or curl) pointed at `baseURL` creates jobs, polls them through
 * queued → in_progress → completed, and downloads real H.264 MP4s rendered
 * by ffmpeg. Faults, latency and rate limits are injected per `/v1` request;
 * `/__emulator/*` routes are never faulted and need no auth.
 */

export interface EmulatorOptions {
  /** State directory (jobs, characters, uploads, renders); survives restarts. */
  readonly dir: string;
  /** 0 or absent: any free port. */
  readonly port?: number;
  /** Simulated generation time per job (default 5). */
  readonly jobSeconds?: number;
  /** Hold every `/v1` response this long after acting on the request. */
  readonly latencyMs?: number;
  /** Jobs in progress at once; later jobs stay queued (default unlimited). */
  readonly maxRunning?: number;
  /** Requests per minute before 429 with Retry-After (default unlimited). */
  readonly rpm?: number;
  /** Seconds from completion until assets expire (default 3600). */
  readonly assetTtlSeconds?: number;
  /** Fault probabilities per request, e.g. `{"seed":7,"429":0.2,"5xx":0.05}` (object or JSON text). */
  readonly faults?: FaultsInput | string;
  /** Jobs that would complete end in this status instead (e.g. `expired`, outside the SDK's union). */
  readonly endStatus?: string;
  /** Frame rate of rendered clips (default 24); duration and size are exact at any rate. */
  readonly fps?: number;
  /** Content-addressed render cache; may be shared between emulators (default `<dir>/renders`). */
  readonly renderCacheDir?: string;
  /**
   * The project whose `.vidbuild/emulator` is `dir` (`--backend emulator`):
   * a symlink in it is refused in the project's terms (core/link-free-tree.ts).
   */
  readonly projectDir?: string;
  /** Clock in ms, for tests that move time by hand (default Date.now). */
  readonly now?: () => number;
  /**
   * Behave as Azure OpenAI does about credentials: the key must come in this
   * header (e.g. `api-key`), and a request that also sends it as a Bearer
   * token is refused, so a client that leaks the key to the wrong header
   * is caught (default: `Authorization: Bearer`).
   */
  readonly apiKeyHeader?: string;
  /** Query parameters every request must carry, e.g. `{ "api-version": "preview" }` (default none). */
  readonly requireQuery?: Readonly<Record<string, string>>;
  /** Sizes accepted beyond data/capabilities.json, by model, as a provider that accepts more (default none). */
  readonly extraSizes?: Readonly<Record<string, readonly string[]>>;
}

/** Request counts by route (`"POST /videos"`, `"GET /videos/{id}"`, …), jobs by status, faults by kind. */
export interface EmulatorStats {
  readonly requests: Readonly<Record<string, number>>;
  readonly jobs: Readonly<Record<string, number>>;
  readonly faults: Readonly<Record<string, number>>;
}

export interface RunningEmulator {
  /** `http://127.0.0.1:PORT/v1`, ready for `new OpenAI({ baseURL })`. */
  readonly baseURL: string;
  readonly port: number;
  stats(): EmulatorStats;
  /** The last change requests as received (also `GET /__emulator/requests`); cleared with the stats. */
  requests(): readonly LoggedRequest[];
  resetStats(): void;
  stop(): Promise<void>;
}

const MAX_BODY = 64 * 1024 * 1024;

type Reply =
  | { readonly kind: 'json'; readonly status: number; readonly body: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly kind: 'file'; readonly file: ContentFile };

interface Route {
  /** Stats key: method and path without `/v1`, ids as `{id}`. */
  readonly key: string;
  readonly mutates: boolean;
  readonly download: boolean;
  readonly handle: (body: BodyObject) => Promise<Result<Reply, ApiError>>;
}

export async function startEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
  const faultConfig: FaultConfig | null = options.faults === undefined ? null : unwrap(parseFaults(options.faults));
  const now = options.now ?? Date.now;
  const fps = options.fps ?? 24;
  if (!Number.isInteger(fps) || fps < 4 || fps > 60) throw new Error(`emulator: fps must be an integer from 4 to 60 (got ${fps})`);
  const jobSeconds = options.jobSeconds ?? 5;
  // An end status that is not terminal would leave every client polling a finished job forever.
  if (options.endStatus !== undefined && !/^[a-z][a-z0-9_]*$/.test(options.endStatus)) {
    throw new Error(`endStatus must be a status word such as expired (got '${options.endStatus}')`);
  }
  if (options.endStatus === 'queued' || options.endStatus === 'in_progress') {
    throw new Error(`endStatus must be a final status such as expired, not '${options.endStatus}' (jobs would never end)`);
  }
  const missingTools = await renderToolsProblem();
  if (missingTools !== null) throw new Error(missingTools);
  const store = await StateStore.open(options.dir, options.projectDir);
  const renders = new RenderCache({
    dir: path.resolve(options.renderCacheDir ?? path.join(store.dir, 'renders')),
    uploadsDir: store.uploadsDir,
    fps,
    // A render cache of its own is checked as part of the state folder; a shared one is wherever it was pointed.
    ...(options.renderCacheDir === undefined ? { within: { stateDir: store.dir, projectDir: options.projectDir } } : {}),
  });
  await renders.sweep();
  const service = new VideoService(
    store,
    renders,
    {
      jobSeconds,
      maxRunning: options.maxRunning !== undefined && options.maxRunning > 0 ? options.maxRunning : Infinity,
      assetTtlSeconds: options.assetTtlSeconds ?? 3600,
      endStatus: options.endStatus ?? null,
      capabilities: withExtraSizes(await loadCapabilities(), options.extraSizes ?? {}),
      limits: apiLimits(),
    },
    now,
  );
  const faults = faultConfig === null ? null : new FaultInjector(faultConfig);
  const rate = options.rpm !== undefined && options.rpm > 0 ? new RateWindow(options.rpm) : null;
  const latencyMs = options.latencyMs ?? 0;
  const pollAfterMs = String(Math.min(20_000, Math.max(50, Math.round((jobSeconds * 1000) / 5))));
  const requests = new Map<string, number>();
  const faultCounts = new Map<string, number>();
  const log = new RequestLog();
  const closing = new AbortController();
  // Every held response (--latency-ms, slow faults) listens on it; dozens at once is normal.
  setMaxListeners(0, closing.signal);
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

  const stats = (): EmulatorStats => ({
    requests: Object.fromEntries(requests),
    jobs: service.jobCounts(),
    faults: Object.fromEntries(faultCounts),
  });

  function route(method: string, url: URL): Route | null {
    const p = url.pathname.replace(/\/+$/, '');
    const m = /^\/v1\/videos(?:\/([^/]+))?(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(p);
    if (m === null) return null;
    const [, a, b, c] = m;
    const json = (status: number, body: unknown, headers?: Record<string, string>): Reply =>
      headers === undefined ? { kind: 'json', status, body } : { kind: 'json', status, body, headers };
    const asReply = <T>(r: Result<T, ApiError>, headers?: Record<string, string>): Result<Reply, ApiError> =>
      r.ok ? ok(json(200, r.value, headers)) : r;
    const id = a === undefined ? '' : decodeSegment(a);
    if (c !== undefined) return null;
    if (a === undefined) {
      if (method === 'POST') return { key: 'POST /videos', mutates: true, download: false, handle: async (body) => asReply(await service.create(body)) };
      if (method === 'GET') return { key: 'GET /videos', mutates: false, download: false, handle: async () => asReply(service.list(url.searchParams)) };
      return null;
    }
    if (b === undefined) {
      if (method === 'POST' && a === 'edits') return { key: 'POST /videos/edits', mutates: true, download: false, handle: async (body) => asReply(await service.edit(body)) };
      if (method === 'POST' && a === 'extensions') return { key: 'POST /videos/extensions', mutates: true, download: false, handle: async (body) => asReply(await service.extend(body)) };
      if (method === 'POST' && a === 'characters') return { key: 'POST /videos/characters', mutates: true, download: false, handle: async (body) => asReply(await service.createCharacter(body)) };
      if (method === 'GET') {
        return {
          key: 'GET /videos/{id}',
          mutates: false,
          download: false,
          handle: async () => {
            const r = service.retrieve(id);
            if (!r.ok) return r;
            const terminal = r.value.status !== 'queued' && r.value.status !== 'in_progress';
            if (r.value.status === 'completed') service.warm(id);
            return ok(json(200, r.value, terminal ? undefined : { 'openai-poll-after-ms': pollAfterMs }));
          },
        };
      }
      if (method === 'DELETE') return { key: 'DELETE /videos/{id}', mutates: true, download: false, handle: async () => asReply(await service.delete(id)) };
      return null;
    }
    if (a === 'characters' && method === 'GET') {
      const charId = decodeSegment(b);
      return { key: 'GET /videos/characters/{id}', mutates: false, download: false, handle: async () => asReply(service.getCharacter(charId)) };
    }
    if (b === 'remix' && method === 'POST') return { key: 'POST /videos/{id}/remix', mutates: true, download: false, handle: async (body) => asReply(await service.remix(id, body)) };
    if (b === 'content' && method === 'GET') {
      return {
        key: 'GET /videos/{id}/content',
        mutates: false,
        download: true,
        handle: async () => {
          const r = await service.content(id, url.searchParams.get('variant'));
          return r.ok ? ok({ kind: 'file', file: r.value }) : r;
        },
      };
    }
    return null;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    if (url.pathname === '/__emulator/stats' && method === 'GET') return sendJson(res, 200, stats());
    if (url.pathname === '/__emulator/requests' && method === 'GET') return sendJson(res, 200, log.entries());
    if (url.pathname === '/__emulator/reset-stats' && method === 'POST') {
      requests.clear();
      faultCounts.clear();
      log.clear();
      return sendJson(res, 200, { ok: true });
    }
    const r = route(method, url);
    bump(requests, r?.key ?? `${method} (unknown route)`);
    if (r === null) {
      // The usual mistake of a client set up by hand: OPENAI_BASE_URL without `/v1`.
      const hint = /^\/videos(\/|$)/.test(url.pathname) ? `; the API is served under /v1 (baseURL http://127.0.0.1:${req.socket.localPort ?? ''}/v1)` : '';
      return sendError(res, { ...notFound(`Invalid URL (${method} ${url.pathname})${hint}`), code: 'unknown_url' });
    }
    const credential = credentialProblem(req, options.apiKeyHeader);
    if (credential !== null) return sendError(res, credential);
    for (const [name, value] of Object.entries(options.requireQuery ?? {})) {
      const got = url.searchParams.get(name);
      if (got !== value) {
        return sendError(res, {
          status: got === null ? 400 : 404,
          message: got === null ? `Missing required query parameter: '${name}' (this emulator requires ${name}=${value}).` : `Unsupported ${name} '${got}' (this emulator requires ${name}=${value}).`,
          type: 'invalid_request_error',
          param: name,
          code: got === null ? 'missing_required_parameter' : 'unsupported_api_version',
        });
      }
      // Consumed here: the routes refuse parameters they do not know, as the API does.
      url.searchParams.delete(name);
    }
    const auth = req.headers.authorization ?? '';
    if (options.apiKeyHeader === undefined && !/^Bearer\s+\S+/i.test(auth)) {
      return sendError(res, {
        status: 401,
        message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        type: 'invalid_request_error',
        param: null,
        code: 'missing_api_key',
      });
    }
    if (rate !== null) {
      const slot = rate.take(now());
      if (!slot.ok) return sendRateLimited(res, slot.retryAfterMs, 'Rate limit reached for requests per minute (emulator --rpm).');
    }
    const fault: Fault = faults?.next(r.download) ?? { kind: 'none' };
    if (fault.kind !== 'none') bump(faultCounts, fault.kind);
    if (fault.kind === '429') return sendRateLimited(res, fault.retryAfterMs, 'Rate limit reached (injected fault).');
    if (fault.kind === 'reset' && (fault.when === 'before' || !r.mutates)) return void req.socket.destroy();
    const body = method === 'POST' ? await readBody(req, MAX_BODY) : ok(Buffer.alloc(0));
    if (!body.ok) return sendError(res, body.error);
    if (fault.kind === '5xx' && (fault.when === 'before' || !r.mutates)) return sendError(res, serverError(fault.status));
    const parsed = await parseBody(req.headers['content-type'], body.value);
    if (parsed.ok && method === 'POST') log.add(r.key, req.headers['content-type'], parsed.value);
    const reply: Result<Reply, ApiError> = parsed.ok ? await r.handle(parsed.value) : parsed;
    // Held after acting: a client that gives up now has already caused the effect.
    if (latencyMs > 0) await sleep(latencyMs, undefined, { signal: closing.signal });
    if (fault.kind === 'slow') await sleep(fault.ms, undefined, { signal: closing.signal });
    if (fault.kind === 'reset') return void req.socket.destroy();
    if (fault.kind === '5xx') return sendError(res, serverError(fault.status));
    if (!reply.ok) return sendError(res, reply.error);
    const v = reply.value;
    switch (v.kind) {
      case 'json':
        return sendJson(res, v.status, v.body, v.headers);
      case 'file':
        return sendFile(res, v.file, fault.kind === 'truncate');
      default:
        return unreachable(v, 'reply');
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (closing.signal.aborted) return void req.socket.destroy();
      const message = e instanceof Error ? e.message : String(e);
      if (res.headersSent) return void req.socket.destroy();
      sendError(res, { status: 500, message: `Emulator error: ${message}`, type: 'server_error', param: null, code: 'emulator_error' });
    });
  });
  server.keepAliveTimeout = 5_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e: unknown) {
    // The port is taken: give the state directory back before failing.
    await Promise.all([renders.stop(), store.close()]);
    throw listenError(e, options.port ?? 0);
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? (address satisfies AddressInfo).port : 0;
  await store.announce(`http://127.0.0.1:${port}/v1`);

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    port,
    stats,
    requests: () => log.entries(),
    resetStats: () => {
      requests.clear();
      faultCounts.clear();
      log.clear();
    },
    stop: async () => {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all([closed, renders.stop()]);
      await store.close();
    },
  };
}

/** Node's `listen EADDRINUSE: address already in use 127.0.0.1:8787` says neither what to do nor in words a user knows. */
function listenError(e: unknown, port: number): unknown {
  const code = e instanceof Error && 'code' in e ? e.code : undefined;
  if (code === 'EADDRINUSE') return new Error(`port ${port} on 127.0.0.1 is already in use; pick another port (--port 0 takes any free one)`);
  if (code === 'EACCES') return new Error(`port ${port} on 127.0.0.1 needs privileges this process lacks; pick a port above 1023 (--port 0 takes any free one)`);
  return e;
}

/** A path segment as an id; broken percent-encoding (`%ZZ`) stays as sent, so it is an unknown id (404), not a 500. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function unwrap(r: Result<FaultConfig, string>): FaultConfig {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

function serverError(status: 500 | 502 | 503): ApiError {
  return { status, message: 'The server had an error while processing your request (injected fault).', type: 'server_error', param: null, code: null };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Readonly<Record<string, string>>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-request-id': `req_${Math.random().toString(16).slice(2)}`,
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, e: ApiError): void {
  sendJson(res, e.status, errorBody(e));
}

function sendRateLimited(res: ServerResponse, retryAfterMs: number, message: string): void {
  sendJson(res, 429, errorBody({ status: 429, message, type: 'requests', param: null, code: 'rate_limit_exceeded' }), {
    'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
    'retry-after-ms': String(retryAfterMs),
  });
}

/** Streams a file; `truncate` announces the full length but hangs up halfway. */
function sendFile(res: ServerResponse, file: ContentFile, truncate: boolean): void {
  res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.size });
  const end = truncate ? Math.max(0, Math.floor(file.size / 2) - 1) : undefined;
  const stream = createReadStream(file.path, end === undefined ? {} : { start: 0, end });
  stream.on('error', () => res.destroy());
  if (truncate) {
    stream.on('end', () => res.destroy());
    stream.pipe(res, { end: false });
  } else stream.pipe(res);
}
