import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { PreviewStore } from '../../src/watch/preview-state.js';
import { startPreviewServer } from '../../src/watch/preview-server.js';

async function rig() {
  const projectDir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'vidbuild-preview-')));
  onTestFinished(() => fs.rm(projectDir, { recursive: true, force: true }));
  const store = new PreviewStore({ manifest: 'videos.yaml', maxCost: 5, backend: 'emulator' });
  const started = await startPreviewServer({ projectDir, store });
  if (!started.ok) throw new Error(started.error.message);
  const server = started.value;
  onTestFinished(() => server.close());
  return { projectDir, store, server };
}

/** A raw GET, so tests can set any Host header and read status, headers and body. */
function get(
  port: number,
  urlPath: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
  });
}

async function addCacheObject(projectDir: string, bytes: Buffer): Promise<string> {
  const sha = crypto.createHash('sha256').update(bytes).digest('hex');
  const dir = path.join(projectDir, '.vidbuild', 'cache', 'objects', sha.slice(0, 2));
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, sha), bytes);
  return sha;
}

describe('preview server', () => {
  it('listens on 127.0.0.1 and serves the page, its assets and the state', async () => {
    const { server } = await rig();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(server.port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body.toString()).toContain('/app.js');
    expect(page.body.toString()).not.toMatch(/https?:\/\//);
    expect((await get(server.port, '/app.js')).headers['content-type']).toContain('javascript');
    expect((await get(server.port, '/style.css')).headers['content-type']).toContain('text/css');
    const state = await get(server.port, '/state.json');
    expect(JSON.parse(state.body.toString())).toMatchObject({ manifest: 'videos.yaml', maxCost: 5, cards: [] });
  });

  it('refuses a Host header that is not the loopback address (DNS rebinding)', async () => {
    const { server } = await rig();
    expect((await get(server.port, '/state.json', { host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await get(server.port, '/state.json', { host: `localhost:${server.port}` })).status).toBe(200);
  });

  it('pushes a new snapshot over SSE when the state changes', async () => {
    const { server, store } = await rig();
    const messages: Array<{ revision: number; errors: string[] }> = [];
    const gotError = new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: server.port, path: '/events' }, (res) => {
        expect(res.headers['content-type']).toContain('text/event-stream');
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let i: number;
          while ((i = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, i);
            buffer = buffer.slice(i + 2);
            const data = block.split('\n').find((l) => l.startsWith('data: '));
            if (data === undefined) continue;
            const snapshot = JSON.parse(data.slice(6));
            messages.push(snapshot);
            if (messages.length === 1) store.setErrors(['videos.yaml:3:12: seconds must be one of 4, 8, 12 (got 5)']);
            if (snapshot.errors.length > 0) {
              req.destroy();
              resolve();
            }
          }
        });
      });
      req.on('error', (e) => (messages.length > 0 ? undefined : reject(e)));
    });
    await gotError;
    expect(messages[0]?.errors).toEqual([]);
    expect(messages.at(-1)?.errors).toEqual(['videos.yaml:3:12: seconds must be one of 4, 8, 12 (got 5)']);
    expect(messages.at(-1)!.revision).toBeGreaterThan(messages[0]!.revision);
  });

  it('serves cache objects by hash with a sniffed type and byte ranges', async () => {
    const { server, projectDir } = await rig();
    const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), crypto.randomBytes(200)]);
    const sha = await addCacheObject(projectDir, mp4);
    const whole = await get(server.port, `/cache/${sha}`);
    expect(whole.status).toBe(200);
    expect(whole.headers['content-type']).toBe('video/mp4');
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.body.equals(mp4)).toBe(true);
    const part = await get(server.port, `/cache/${sha}`, { range: 'bytes=4-11' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 4-11/${mp4.length}`);
    expect(part.body.toString()).toBe('ftypisom');
    expect((await get(server.port, `/cache/${sha}`, { range: 'bytes=9999-' })).status).toBe(416);
  });

  it('serves nothing outside the project and no file it was not told about', async () => {
    const { server, projectDir } = await rig();
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'vidbuild-outside-'));
    onTestFinished(() => fs.rm(outside, { recursive: true, force: true }));
    const secret = Buffer.from('secret outside the project');
    const sha = crypto.createHash('sha256').update(secret).digest('hex');
    await fs.writeFile(path.join(outside, 'secret'), secret);
    const dir = path.join(projectDir, '.vidbuild', 'cache', 'objects', sha.slice(0, 2));
    await fs.mkdir(dir, { recursive: true });
    await fs.symlink(path.join(outside, 'secret'), path.join(dir, sha));
    expect((await get(server.port, `/cache/${sha}`)).status).toBe(403);
    await fs.writeFile(path.join(projectDir, 'videos.yaml'), 'version: 1');
    for (const p of [
      '/files/videos.yaml',
      '/files/..%2f..%2fetc%2fpasswd',
      '/files/%2e%2e/%2e%2e/etc/passwd',
      '/files/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
      '/cache/../../videos.yaml',
      '/cache/abc',
      '/etc/passwd',
      // Sent as written (no client-side normalisation): static assets are a fixed table, not a directory.
      '/assets/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/style.css/../../package.json',
      '/..%2fpackage.json',
      '/app.js%00.html',
    ]) {
      const res = await get(server.port, p);
      expect(res.status, p).toBe(404);
    }
  });
});
