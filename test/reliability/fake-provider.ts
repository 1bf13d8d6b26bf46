import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

/**
 * A loopback provider that misbehaves, for what the emulator will not do.
 * The mode is the first path segment of the base URL (`/echo/v1`):
 *
 *   echo  — every field of every answer carries the request's Authorization
 *           header (prompt, error code and message, headers); jobs fail
 *   forge — ids, statuses and messages carry newlines and escape codes that
 *           would forge a line ("videos.yaml: ok"), clear the screen or set
 *           the terminal title; jobs fail
 *   noid  — a create answers 200 without an id
 *   junk  — jobs complete, and the "video" is 17 bytes of text
 *
 * Counts paid requests (creates, remixes, edits, extensions) per mode. Stops
 * when the test finishes.
 */
export type FakeMode = 'echo' | 'forge' | 'noid' | 'junk';

export interface FakeProvider {
  url(mode: FakeMode): string;
  paid(mode: FakeMode): number;
}

export const FORGED = '\n videos.yaml: ok\x1b[2J\x1b]0;pwned\x07\r';

export async function startFakeProvider(): Promise<FakeProvider> {
  const paid = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const [, mode = '', , ...rest] = (req.url ?? '').split('?')[0]?.split('/') ?? [];
    const auth = req.headers.authorization ?? '';
    const route = `${req.method ?? 'GET'} /${rest.join('/')}`;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    req.resume();
    req.on('end', () => {
      const evil = mode === 'echo' ? `leak ${auth}` : FORGED;
      const job = (id: string, status: string): Record<string, unknown> => ({
        id,
        object: 'video',
        status,
        progress: status === 'completed' ? 100 : 0,
        model: 'sora-2',
        seconds: '4',
        size: '720x1280',
        created_at: Math.floor(Date.now() / 1000),
        completed_at: status === 'completed' ? Math.floor(Date.now() / 1000) : null,
        expires_at: null,
        prompt: evil,
        remixed_from_video_id: null,
        error: status === 'failed' ? { code: mode === 'echo' ? `code ${auth}` : `bad${evil}`, message: `failed: ${evil}` } : null,
      });
      if (route === 'POST /videos' || /^POST \/videos\/(edits|extensions|[^/]+\/remix)$/.test(route)) {
        paid.set(mode, (paid.get(mode) ?? 0) + 1);
        if (mode === 'noid') return send(200, { object: 'video', status: 'queued' });
        return send(200, job(`video_${mode}_1`, 'queued'));
      }
      if (route === 'GET /videos') {
        return send(200, { object: 'list', data: mode === 'noid' ? [] : [job(`video_${mode}_1`, mode === 'junk' ? 'completed' : 'failed')], has_more: false, first_id: null, last_id: null });
      }
      const m = /^(GET|DELETE) \/videos\/([^/]+)(\/content)?$/.exec(route);
      if (m?.[3] !== undefined) {
        if (mode === 'junk') {
          res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '17' });
          return res.end('this is not mp4!\n');
        }
        return send(404, { error: { message: `no content ${evil}`, type: 'invalid_request_error', code: 'not_found' } });
      }
      if (m?.[1] === 'DELETE') {
        return mode === 'echo'
          ? send(400, { error: { message: `denied ${evil}`, type: 'x', code: auth } })
          : send(200, { id: m[2], object: 'video.deleted', deleted: true });
      }
      if (m !== null) return send(200, job(m[2] ?? '', mode === 'junk' ? 'completed' : 'failed'), mode === 'echo' ? { 'x-echo': auth } : {});
      return send(404, { error: { message: `unknown route ${route} ${evil}`, type: 'invalid_request_error', code: null } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    url: (mode) => `http://127.0.0.1:${port}/${mode}/v1`,
    paid: (mode) => paid.get(mode) ?? 0,
  };
}
