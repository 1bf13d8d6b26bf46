import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI, { toFile } from 'openai';
import type { Video } from 'openai/resources/videos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { apiError } from './api-error.js';
import { colorDistance, meanColor, probeVideo, solidPng } from './media.js';

/**
 * `input_reference` as an `ImageInputReferenceParam` (issue 12 item 1):
 * `{image_url}` or `{file_id}`, as JSON (the generic post) and as the SDK's
 * own multipart (`videos.create`), next to the uploaded image that always
 * worked. The emulator fetches nothing: a URL or id becomes a still drawn
 * from it, rendered as an uploaded image would be.
 */

let emulator: RunningEmulator;
let client: OpenAI;
let dir: string;
let clock = Date.now();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-inref-'));
  emulator = await startEmulator({ dir, jobSeconds: 1, fps: 4, now: () => clock });
  client = new OpenAI({ apiKey: 'test-key', baseURL: emulator.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await emulator.stop();
  await rm(dir, { recursive: true, force: true });
});

async function settled(v: Video): Promise<Video> {
  clock += 2_000;
  return client.videos.retrieve(v.id);
}

async function firstFrameColor(id: string): Promise<readonly [number, number, number]> {
  const bytes = Buffer.from(await (await client.videos.downloadContent(id)).arrayBuffer());
  return meanColor(bytes, 0);
}

function createJson(input_reference: unknown, size = '1280x720'): Promise<Video> {
  return client.post<Video>('/videos', { body: { prompt: 'a lighthouse at dawn', size, seconds: '4', input_reference } });
}

describe('input_reference as {image_url} or {file_id}', () => {
  it('JSON {image_url} completes at the requested size, is recorded as JSON, and fetches nothing', async () => {
    let hits = 0;
    const origin = http.createServer((_req, res) => {
      hits++;
      res.end();
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/ref.png`;
      emulator.resetStats();
      const done = await settled(await createJson({ image_url: url }));
      expect(done.status).toBe('completed');
      const facts = await probeVideo(Buffer.from(await (await client.videos.downloadContent(done.id)).arrayBuffer()));
      expect([facts.width, facts.height]).toEqual([1280, 720]);
      expect(emulator.requests()).toEqual([{ route: 'POST /videos', encoding: 'json', body: expect.objectContaining({ input_reference: { image_url: url } }) }]);
      expect(hits).toBe(0);
    } finally {
      origin.close();
    }
  });

  it('the same URL gives the same first frame, another URL or a file id another one', async () => {
    const a1 = await settled(await createJson({ image_url: 'https://cdn.example.com/a.png' }));
    const a2 = await settled(await createJson({ image_url: 'https://cdn.example.com/a.png' }));
    const b = await settled(await createJson({ image_url: 'https://cdn.example.com/b.png' }));
    const f = await settled(await createJson({ file_id: 'file-abc123' }));
    const [ca1, ca2, cb, cf] = await Promise.all([a1, a2, b, f].map((v) => firstFrameColor(v.id)));
    if (ca1 === undefined || ca2 === undefined || cb === undefined || cf === undefined) throw new Error('four colours expected');
    expect(colorDistance(ca1, ca2)).toBeLessThan(3);
    expect(colorDistance(ca1, cb)).toBeGreaterThan(10);
    expect(colorDistance(ca1, cf)).toBeGreaterThan(10);
  });

  it('the SDK’s videos.create sends the object as multipart input_reference[file_id]; accepted as the same form', async () => {
    emulator.resetStats();
    const v = await client.videos.create({ prompt: 'from an uploaded file', size: '720x1280', input_reference: { file_id: 'file-XYZ_789' } });
    expect((await settled(v)).status).toBe('completed');
    expect(emulator.requests()[0]).toMatchObject({ encoding: 'multipart', body: { input_reference: { file_id: 'file-XYZ_789' } } });
  });

  it('a base64 data URL is the image itself, checked like an upload', async () => {
    const url = `data:image/png;base64,${solidPng(1280, 720).toString('base64')}`;
    expect((await settled(await createJson({ image_url: url }))).status).toBe('completed');
    const small = await apiError(createJson({ image_url: `data:image/png;base64,${solidPng(64, 64).toString('base64')}` }));
    expect([small.status, small.param]).toEqual([400, 'input_reference']);
  });

  it('the uploaded image (multipart) still works', async () => {
    const v = await client.videos.create({ prompt: 'uploaded', size: '1280x720', input_reference: await toFile(solidPng(1280, 720), 'ref.png', { type: 'image/png' }) });
    expect((await settled(v)).status).toBe('completed');
  });

  it.each([
    { name: 'both image_url and file_id', ref: { image_url: 'https://x.example/a.png', file_id: 'file-a1' }, param: 'input_reference', code: 'invalid_value' },
    { name: 'neither', ref: {}, param: 'input_reference', code: 'invalid_value' },
    { name: 'an unknown key', ref: { url: 'https://x.example/a.png' }, param: 'input_reference.url', code: 'unknown_parameter' },
    { name: 'image_url not a string', ref: { image_url: 7 }, param: 'input_reference.image_url', code: 'invalid_type' },
    { name: 'image_url not a URL', ref: { image_url: 'lighthouse.png' }, param: 'input_reference.image_url', code: 'invalid_url' },
    { name: 'image_url of another scheme', ref: { image_url: 'ftp://x.example/a.png' }, param: 'input_reference.image_url', code: 'invalid_url' },
    { name: 'file_id not a string', ref: { file_id: ['file-a1'] }, param: 'input_reference.file_id', code: 'invalid_type' },
    { name: 'file_id of another shape', ref: { file_id: 'video_123' }, param: 'input_reference.file_id', code: 'invalid_file_id' },
    { name: 'a number', ref: 5, param: 'input_reference', code: 'invalid_type' },
  ])('400 naming the param for $name', async ({ ref, param, code }) => {
    const e = await apiError(createJson(ref));
    expect([e.status, e.param, e.code]).toEqual([400, param, code]);
    expect(e.message.length).toBeGreaterThan(10);
  });
});
