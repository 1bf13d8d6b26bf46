import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI, { toFile } from 'openai';
import type { Video } from 'openai/resources/videos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiLimits } from '../../src/core/api-limits.js';
import { shippedCapabilities } from '../../src/manifest/capabilities.js';
import { SCHEMA_FILE } from '../../src/manifest/schema-validate.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { ffmpegClip } from '../fixtures/images.js';
import { apiError as refusal } from './api-error.js';
import { repoRoot } from '../apply/rig.js';

/**
 * Issue 12 item 5: every string length, enum and range of the spec's video
 * schemas, read from the one place that holds them (data/api-limits.json),
 * checked against data/capabilities.json and the manifest schema, and driven
 * through the official SDK at each limit and just past it.
 */

const limits = parseApiLimits(JSON.parse(await readFile(path.join(repoRoot, 'data', 'api-limits.json'), 'utf8')));

let emulator: RunningEmulator;
let client: OpenAI;
let dir: string;
let clock = Date.now();
let source: Video;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-limits-'));
  emulator = await startEmulator({ dir, jobSeconds: 1, fps: 4, now: () => clock });
  client = new OpenAI({ apiKey: 'test-key', baseURL: emulator.baseURL, maxRetries: 0 });
  source = await client.videos.create({ prompt: 'a source to derive from', size: '1280x720' });
  clock += 2_000;
});
afterAll(async () => {
  await emulator.stop();
  await rm(dir, { recursive: true, force: true });
});

const text = (n: number): string => 'a'.repeat(n);
const post = (route: string, body: Record<string, unknown>): Promise<Video> => client.post<Video>(route, { body });

describe('the spec limits (data/api-limits.json)', () => {
  it('hold data/capabilities.json and the manifest schema inside them', async () => {
    const caps = shippedCapabilities();
    for (const [model, row] of caps.models) {
      expect(limits.models).toContain(model);
      for (const size of row.sizes) expect(limits.sizes).toContain(size);
      for (const s of row.seconds) expect(limits.seconds).toContain(String(s));
    }
    expect(caps.extension.seconds.map(String)).toEqual(limits.extensionSeconds);
    const schema = JSON.parse(await readFile(SCHEMA_FILE, 'utf8'));
    const prompt = schema.$defs.video.properties.prompt;
    expect([prompt.minLength, prompt.maxLength]).toEqual([limits.prompt.minLength, limits.prompt.maxLength]);
    const [, url, id] = schema.$defs.inputReference.oneOf;
    expect(url.properties.image_url.maxLength).toBeLessThanOrEqual(limits.imageUrl.maxLength);
    expect([id.properties.file_id.pattern, id.properties.file_id.maxLength]).toEqual([limits.fileId.pattern.source, limits.fileId.maxLength]);
  });

  it.each([
    { route: 'create', send: (prompt: string) => post('/videos', { prompt }) },
    { route: 'remix', send: (prompt: string) => client.videos.remix(source.id, { prompt }) },
    { route: 'edit', send: (prompt: string) => client.videos.edit({ prompt, video: { id: source.id } }) },
    { route: 'extend', send: (prompt: string) => client.videos.extend({ prompt, seconds: '4', video: { id: source.id } }) },
  ])('prompt on $route: minLength and maxLength accepted, one past each refused', async ({ send }) => {
    const { minLength, maxLength } = limits.prompt;
    expect((await send(text(minLength))).object).toBe('video');
    expect((await send(text(maxLength))).object).toBe('video');
    expect([(await refusal(send(text(maxLength + 1)))).code]).toEqual(['string_above_max_length']);
    expect((await refusal(send(text(minLength - 1)))).status).toBe(400);
  });

  it('character name: 1 and 80 characters accepted, 0 and 81 refused', async () => {
    const file = path.join(dir, 'char.mp4');
    ffmpegClip(file);
    const video = async (): Promise<File> => toFile(await readFile(file), 'char.mp4', { type: 'video/mp4' });
    const { minLength, maxLength } = limits.characterName;
    for (const n of [minLength, maxLength]) expect((await client.videos.createCharacter({ name: text(n), video: await video() })).name).toBe(text(n));
    expect((await refusal(client.videos.createCharacter({ name: text(maxLength + 1), video: await video() }))).code).toBe('string_above_max_length');
    expect((await refusal(client.videos.createCharacter({ name: text(minLength - 1), video: await video() }))).param).toBe('name');
  });

  it('input_reference.image_url: a URL of the maximum length accepted, one longer refused', async () => {
    const url = (n: number): string => `https://cdn.example.com/${text(n - 'https://cdn.example.com/'.length)}`;
    const max = limits.imageUrl.maxLength;
    // 20 MB bodies take seconds to send on a loaded machine: a kept-alive
    // connection the server closed meanwhile resets (seen in the full suite),
    // so these two unpaid calls may be retried on a fresh one.
    const send = (image_url: string): Promise<Video> => client.post<Video>('/videos', { body: { prompt: 'x', input_reference: { image_url } }, maxRetries: 2 });
    expect((await send(url(max))).object).toBe('video');
    expect((await refusal(send(url(max + 1)))).code).toBe('string_above_max_length');
  }, 120_000);

  it('input_reference.file_id: the shortest and longest ids accepted, one past each refused', async () => {
    const id = (n: number): string => `file-${text(n - 'file-'.length)}`;
    const { minLength, maxLength } = limits.fileId;
    for (const n of [minLength, maxLength]) expect((await post('/videos', { prompt: 'x', input_reference: { file_id: id(n) } })).object).toBe('video');
    for (const n of [minLength - 1, maxLength + 1]) expect((await refusal(post('/videos', { prompt: 'x', input_reference: { file_id: id(n) } }))).param).toBe('input_reference.file_id');
  });

  it('list: limit at its minimum and maximum accepted, one past each refused; each order accepted, another refused', async () => {
    const { minimum, maximum } = limits.listLimit;
    expect((await client.videos.list({ limit: minimum })).data).toHaveLength(0);
    expect((await client.videos.list({ limit: maximum })).data.length).toBeGreaterThan(0);
    for (const limit of [minimum - 1, maximum + 1]) expect((await refusal(client.videos.list({ limit }))).param).toBe('limit');
    for (const order of limits.listOrder) expect((await client.get('/videos', { query: { order, limit: 1 } })) !== undefined).toBe(true);
    expect((await refusal(client.get('/videos', { query: { order: 'sideways' } }))).param).toBe('order');
  });

  it('model, size and seconds: every value the spec and the model allow accepted, a value past each enum refused', async () => {
    for (const model of limits.models) expect((await post('/videos', { prompt: 'x', model })).model).toBe(model);
    expect((await refusal(post('/videos', { prompt: 'x', model: 'sora-3' }))).param).toBe('model');
    // sora-2-pro offers every size of the spec (data/capabilities.json).
    for (const size of limits.sizes) expect((await post('/videos', { prompt: 'x', model: 'sora-2-pro', size })).size).toBe(size);
    expect((await refusal(post('/videos', { prompt: 'x', model: 'sora-2-pro', size: '1920x1080' }))).param).toBe('size');
    for (const seconds of limits.seconds) expect((await post('/videos', { prompt: 'x', seconds })).seconds).toBe(seconds);
    expect((await refusal(post('/videos', { prompt: 'x', seconds: String(Number(limits.seconds.at(-1)) + 4) }))).param).toBe('seconds');
    for (const seconds of limits.extensionSeconds) expect((await post('/videos/extensions', { prompt: 'x', seconds, video: { id: source.id } })).object).toBe('video');
    expect((await refusal(post('/videos/extensions', { prompt: 'x', seconds: String(Number(limits.extensionSeconds.at(-1)) + 4), video: { id: source.id } }))).param).toBe('seconds');
  });

  it('content variants: each one downloads, another is refused', async () => {
    for (const variant of limits.contentVariants) {
      const res = await client.videos.downloadContent(source.id, { variant: variant as 'video' });
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    expect((await refusal(client.get(`/videos/${source.id}/content`, { query: { variant: 'poster' } }))).param).toBe('variant');
  }, 60_000);
});
