import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { packagePath } from '../core/package-paths.js';
import { err, ok, type Result } from '../core/result.js';
import { errorDiagnostic, type Diagnostic } from '../core/diagnostic.js';
import { sendText, serveFile } from './serve-file.js';
import type { PreviewStore } from './preview-state.js';

/**
 * The live preview page's server: node:http on 127.0.0.1 only.
 *
 *   GET /               the page (preview-static/, shipped in the package; no CDN)
 *   GET /state.json     the current PreviewSnapshot
 *   GET /events         Server-Sent Events: `state` with the whole snapshot on
 *                       connect and after every change (coalesced)
 *   GET /files/<path>   an output file the page currently shows (Range support)
 *   GET /cache/<sha256> a cached asset (earlier versions), by content hash
 *
 * Nothing else is served: outputs must be ones the store lists, cache objects
 * are addressed by a validated hash, and both are resolved (symlinks too) and
 * refused unless they are inside the project. The Host header must name the
 * loopback address, so a web page on another origin cannot reach the server
 * through DNS rebinding.
 */
export interface PreviewServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface PreviewServerOptions {
  readonly projectDir: string;
  readonly store: PreviewStore;
  /** 0 or undefined: any free port. */
  readonly port?: number;
}

const STATIC_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Coalesce bursts of progress events into at most one SSE message per this many ms. */
const SSE_COALESCE_MS = 50;

export function staticDir(): string {
  return packagePath('src', 'watch', 'preview-static');
}

export async function startPreviewServer(options: PreviewServerOptions): Promise<Result<PreviewServer, Diagnostic>> {
  const { store } = options;
  const projectDir = await fs.promises.realpath(options.projectDir);
  const clients = new Set<http.ServerResponse>();
  let port = 0;

  let scheduled: NodeJS.Timeout | undefined;
  const broadcast = () => {
    scheduled = undefined;
    const message = sseMessage(store);
    for (const res of clients) res.write(message);
  };
  const unsubscribe = store.subscribe(() => {
    scheduled ??= setTimeout(broadcast, SSE_COALESCE_MS);
  });
  const heartbeat = setInterval(() => {
    for (const res of clients) res.write(': keep-alive\n\n');
  }, 15_000);
  heartbeat.unref();

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendText(res, 500, 'internal error');
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('content-security-policy', "default-src 'self'; media-src 'self'; img-src 'self'");
    if (!allowedHost(req.headers.host, port)) {
      sendText(res, 403, 'forbidden host');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendText(res, 405, 'method not allowed');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = url.pathname;

    const asset = STATIC_FILES[route];
    if (asset !== undefined) {
      const body = await fs.promises.readFile(path.join(staticDir(), asset.file));
      res.writeHead(200, { 'content-type': asset.type, 'content-length': body.length, 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (route === '/state.json') {
      const body = JSON.stringify(store.snapshot());
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    if (route === '/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write('retry: 1000\n\n');
      res.write(sseMessage(store));
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    if (route.startsWith('/files/')) {
      let rel: string;
      try {
        rel = route.slice('/files/'.length).split('/').map(decodeURIComponent).join('/');
      } catch {
        sendText(res, 400, 'bad path');
        return;
      }
      if (!store.servableOutputs().has(rel)) {
        sendText(res, 404, 'not an output of this project');
        return;
      }
      await serveInside(req, res, projectDir, path.resolve(projectDir, rel));
      return;
    }
    if (route.startsWith('/cache/')) {
      const sha = route.slice('/cache/'.length);
      if (!SHA256_HEX.test(sha)) {
        sendText(res, 404, 'not found');
        return;
      }
      await serveInside(req, res, projectDir, path.join(projectDir, '.vidbuild', 'cache', 'objects', sha.slice(0, 2), sha));
      return;
    }
    sendText(res, 404, 'not found');
  }

  const listening = await new Promise<Result<void, Diagnostic>>((resolve) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      resolve(
        err(
          errorDiagnostic(
            'preview-port',
            e.code === 'EADDRINUSE'
              ? `preview: port ${options.port ?? 0} is in use on 127.0.0.1 (pick another with --port, or omit it for a free one)`
              : `preview: cannot listen on 127.0.0.1: ${e.message}`,
          ),
        ),
      ),
    );
    // Loopback only, whatever the caller asks: the page shows unreleased work.
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve(ok(undefined)));
  });
  if (!listening.ok) {
    unsubscribe();
    clearInterval(heartbeat);
    return listening;
  }
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('preview: server has no TCP address');
  port = (address satisfies AddressInfo).port;

  return ok({
    url: `http://127.0.0.1:${port}/`,
    port,
    async close() {
      unsubscribe();
      clearInterval(heartbeat);
      if (scheduled !== undefined) clearTimeout(scheduled);
      for (const res of clients) res.end();
      clients.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  });
}

function sseMessage(store: PreviewStore): string {
  return `event: state\ndata: ${JSON.stringify(store.snapshot())}\n\n`;
}

function allowedHost(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/** Serve `abs` only if it, after resolving symlinks, is inside the project. */
async function serveInside(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  projectDir: string,
  abs: string,
): Promise<void> {
  let real: string;
  try {
    real = await fs.promises.realpath(abs);
  } catch {
    sendText(res, 404, 'not found');
    return;
  }
  const rel = path.relative(projectDir, real);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    sendText(res, 403, 'outside the project');
    return;
  }
  await serveFile(req, res, real);
}
