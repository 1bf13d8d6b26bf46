import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadAsset } from '../../src/execute/download-asset.js';

/**
 * downloadAsset through the real SDK over HTTP, against a loopback server that
 * answers with a scripted sequence of statuses, so the retry rules are exact.
 */
const BODY = Buffer.from('\x00\x00\x00\x18ftypmp42 not really a movie but bytes');

let server: Server;
let script: number[] = [];
/** What a 200 sends, when not BODY. */
let body: Buffer = BODY;
let served = 0;
let dir: string;
let client: OpenAI;

beforeAll(async () => {
  server = createServer((req, res) => {
    served++;
    const status = script.shift() ?? 200;
    if (status === 200) {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(body.length) });
      res.end(body);
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json', 'retry-after-ms': '1' });
    res.end(JSON.stringify({ error: { message: `scripted ${status}`, type: 'test', param: null, code: null } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;
  client = new OpenAI({ apiKey: 'test', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 2 });
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-download-'));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

async function run(statuses: number[], name: string) {
  script = [...statuses];
  served = 0;
  const dest = path.join(dir, name);
  const r = await downloadAsset({ client, jobId: 'video_x', variant: 'video', dest });
  return { r, dest, served };
}

describe('downloadAsset', () => {
  it('keeps going through more 429s in a row than the SDK retries on its own', async () => {
    const { r, dest, served: n } = await run([429, 429, 429, 429, 429], 'a.mp4');
    expect(r.ok).toBe(true);
    expect(n).toBe(6);
    expect(await readFile(dest)).toEqual(BODY);
  });

  it('waits out a rate limit longer than its attempts: 429s do not use them up (a per-minute window can take that long)', async () => {
    // 4 attempts of 3 HTTP tries each (the SDK retries twice) were 12: 15 429s failed the target.
    const { r, served: n } = await run(Array.from({ length: 15 }, () => 429), 'limited.mp4');
    expect(r.ok).toBe(true);
    expect(n).toBe(16);
    // Not for ever: past its bound a rate limit is a failed download, counted, with the server's words.
    const { r: gaveUp, served: m } = await run(Array.from({ length: 200 }, () => 429), 'never.mp4');
    expect(gaveUp).toMatchObject({ ok: false, error: { code: 'download-failed', message: expect.stringMatching(/429/) } });
    expect(m).toBeLessThan(200);
  }, 60_000);

  it('treats 408 and 409 like 429: transient, asked again', async () => {
    const { r } = await run([408, 408, 408, 409, 409, 409], 'b.mp4');
    expect(r.ok).toBe(true);
  });

  it('stops at once on a refusal that asking again cannot change (403), writing nothing', async () => {
    const { r, dest, served: n } = await run([403], 'c.mp4');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('download-refused');
    expect(n).toBe(1);
    expect((await readdir(dir)).filter((f) => f.includes('c.mp4'))).toEqual([]);
    void dest;
  });

  it.each([
    ['text', Buffer.from('this is not mp4!\n')],
    ['shorter than a box header', Buffer.from('ftyp')],
    ['a JSON error', Buffer.from(JSON.stringify({ error: { message: 'nope' } }))],
    ['a HEIC image (ftyp, an image brand)', Buffer.from('\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic', 'latin1')],
  ])('refuses a body labelled video/mp4 that is not one (%s): nothing written, not retried', async (_name, junk) => {
    body = junk;
    try {
      const { r, served: n } = await run([], 'junk.mp4');
      expect(r.ok ? 'ok' : r.error).toEqual({ code: 'not-media', message: 'the video of job video_x is not an MP4 (it does not start with an ftyp box); nothing was saved' });
      expect(n).toBe(1);
      expect((await readdir(dir)).filter((f) => f.includes('junk.mp4'))).toEqual([]);
    } finally {
      body = BODY;
    }
  });

  it('reports an expired asset (404) without retrying', async () => {
    const { r, served: n } = await run([404], 'd.mp4');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('asset-expired');
    expect(n).toBe(1);
  });
});
