import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI, { toFile } from 'openai';
import type { Video } from 'openai/resources/videos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/server.js';
import { apiError } from './api-error.js';
import { colorDistance, meanColor, probeVideo, solidPng } from './media.js';

/**
 * The contract of the Videos API as the official SDK sees it. The same suite
 * runs against the emulator (always) and a real endpoint (VIDBUILD_LIVE=1
 * with OPENAI_API_KEY; optional OPENAI_BASE_URL), so the emulator cannot
 * drift from the real thing unnoticed.
 */

interface Backend {
  readonly live: boolean;
  readonly client: OpenAI;
  readonly baseURL: string;
  /** Lets a job reach a terminal status: moves the emulator's clock, or polls a live endpoint. */
  settle(id: string): Promise<Video>;
  stop(): Promise<void>;
}

const TERMINAL = (s: string): boolean => s !== 'queued' && s !== 'in_progress';

async function emulatorBackend(): Promise<Backend> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-contract-'));
  let clock = Date.now();
  const emulator = await startEmulator({ dir, jobSeconds: 5, fps: 8, now: () => clock });
  const client = new OpenAI({ apiKey: 'test-key', baseURL: emulator.baseURL, maxRetries: 0 });
  return {
    live: false,
    client,
    baseURL: emulator.baseURL,
    settle: async (id) => {
      clock += 6_000;
      return client.videos.retrieve(id);
    },
    stop: async () => {
      await emulator.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function liveBackend(): Backend {
  const baseURL = process.env['OPENAI_BASE_URL'] ?? 'https://api.openai.com/v1';
  const client = new OpenAI({ apiKey: process.env['OPENAI_API_KEY'], baseURL });
  return {
    live: true,
    client,
    baseURL,
    settle: async (id) => {
      for (;;) {
        const v = await client.videos.retrieve(id);
        if (TERMINAL(v.status)) return v;
        await new Promise((r) => setTimeout(r, 10_000));
      }
    },
    stop: async () => undefined,
  };
}

async function bytesOf(res: Response): Promise<Buffer> {
  return Buffer.from(await res.arrayBuffer());
}

function contract(name: string, make: () => Promise<Backend> | Backend, timeout: number): void {
  describe(name, { timeout }, () => {
    let b: Backend;
    let source: Video;
    let sourceBytes: Buffer;

    beforeAll(async () => {
      b = await make();
      const created = await b.client.videos.create({ prompt: 'a paper boat drifting down a rainy street', model: 'sora-2', seconds: '4', size: '720x1280' });
      source = await b.settle(created.id);
      sourceBytes = await bytesOf(await b.client.videos.downloadContent(source.id));
    }, timeout);

    afterAll(async () => {
      await b?.stop();
    });

    it('create returns a queued or in-progress Video that later completes', async () => {
      const v = await b.client.videos.create({ prompt: 'a lighthouse at night, slow pan', seconds: '4' });
      expect(v).toMatchObject({ object: 'video', model: 'sora-2', seconds: '4', size: '720x1280', error: null, remixed_from_video_id: null });
      expect(v.id).toMatch(/^video_/);
      expect(['queued', 'in_progress']).toContain(v.status);
      expect(v.completed_at).toBeNull();
      const done = await b.settle(v.id);
      expect(done.status).toBe('completed');
      expect(done.progress).toBe(100);
      expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at);
      expect(done.expires_at).toBeGreaterThan(done.completed_at ?? 0);
    });

    it('downloads an H.264 MP4 of the exact size and duration, a WebP thumbnail and a JPEG spritesheet', async () => {
      const facts = await probeVideo(sourceBytes);
      expect(facts).toMatchObject({ codec: 'h264', pixFmt: 'yuv420p', width: 720, height: 1280 });
      expect(facts.duration).toBeCloseTo(4, 1);
      const thumb = await b.client.videos.downloadContent(source.id, { variant: 'thumbnail' });
      expect(thumb.headers.get('content-type')).toMatch(/^image\/webp/);
      const webp = await bytesOf(thumb);
      expect(webp.toString('latin1', 0, 4)).toBe('RIFF');
      expect(webp.toString('latin1', 8, 12)).toBe('WEBP');
      const sprite = await b.client.videos.downloadContent(source.id, { variant: 'spritesheet' });
      expect(sprite.headers.get('content-type')).toMatch(/^image\/jpeg/);
      const jpeg = await bytesOf(sprite);
      expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]);
    });

    it('the video download carries content-type and content-length', async () => {
      const res = await b.client.videos.downloadContent(source.id, { variant: 'video' });
      expect(res.headers.get('content-type')).toMatch(/^video\/mp4/);
      expect(Number(res.headers.get('content-length'))).toBe(sourceBytes.length);
      await res.arrayBuffer();
    });

    it('create with an uploaded input_reference image of the requested size', async () => {
      const png = solidPng(1280, 720);
      const v = await b.client.videos.create({
        prompt: 'a red room, camera still',
        size: '1280x720',
        seconds: '4',
        input_reference: await toFile(png, 'ref.png', { type: 'image/png' }),
      });
      const done = await b.settle(v.id);
      expect(done.status).toBe('completed');
      expect(done.size).toBe('1280x720');
      const facts = await probeVideo(await bytesOf(await b.client.videos.downloadContent(v.id)));
      expect([facts.width, facts.height]).toEqual([1280, 720]);
    });

    it('list pages with after/limit/order and auto-pagination', async () => {
      const ids: string[] = [];
      for (const p of ['list one', 'list two', 'list three']) ids.push((await b.client.videos.create({ prompt: p })).id);
      const page = await b.client.videos.list({ limit: 2, order: 'desc' });
      expect(page.data).toHaveLength(2);
      expect(page.has_more).toBe(true);
      expect(page.data[0]?.id).toBe(ids[2]);
      expect(page.last_id).toBe(page.data[1]?.id);
      const seen: string[] = [];
      for await (const v of b.client.videos.list({ limit: 2 })) {
        seen.push(v.id);
        if (seen.includes(source.id)) break;
      }
      expect(seen.slice(0, 3)).toEqual([ids[2], ids[1], ids[0]]);
      expect(seen).toContain(source.id);
      const asc = await b.client.videos.list({ order: 'asc', limit: 100 });
      const ascIds = asc.data.map((v) => v.id);
      expect(ascIds.indexOf(ids[0] ?? '')).toBeLessThan(ascIds.indexOf(ids[2] ?? ''));
      for (const id of ids) await b.settle(id);
    });

    it('delete removes a completed video', async () => {
      const v = await b.client.videos.create({ prompt: 'to be deleted' });
      await b.settle(v.id);
      expect(await b.client.videos.delete(v.id)).toEqual({ id: v.id, object: 'video.deleted', deleted: true });
      expect((await apiError(b.client.videos.retrieve(v.id))).status).toBe(404);
    });

    it('remix makes a new video linked to its source that looks different', async () => {
      const r = await b.client.videos.remix(source.id, { prompt: 'the same boat, but in a snowstorm' });
      expect(r.remixed_from_video_id).toBe(source.id);
      const done = await b.settle(r.id);
      expect(done).toMatchObject({ status: 'completed', seconds: source.seconds, size: source.size });
      const bytes = await bytesOf(await b.client.videos.downloadContent(r.id));
      expect(colorDistance(await meanColor(bytes, 1), await meanColor(sourceBytes, 1))).toBeGreaterThan(10);
    });

    it('extend reports the stitched total and begins with the source frames', async () => {
      const e = await b.client.videos.extend({ prompt: 'the boat reaches a river', seconds: '4', video: { id: source.id } });
      const done = await b.settle(e.id);
      expect(done).toMatchObject({ status: 'completed', seconds: '8', size: source.size });
      const bytes = await bytesOf(await b.client.videos.downloadContent(e.id));
      const facts = await probeVideo(bytes);
      expect(facts.duration).toBeCloseTo(8, 1);
      expect(colorDistance(await meanColor(bytes, 0.5), await meanColor(sourceBytes, 0.5))).toBeLessThan(12);
    });

    it('edit works on a video by id and on an uploaded video file', async () => {
      const byId = await b.client.videos.edit({ prompt: 'make it night', video: { id: source.id } });
      expect((await b.settle(byId.id)).status).toBe('completed');
      const upload = await b.client.videos.edit({ prompt: 'make it sepia', video: await toFile(sourceBytes, 'boat.mp4', { type: 'video/mp4' }) });
      const done = await b.settle(upload.id);
      expect(done.status).toBe('completed');
      const facts = await probeVideo(await bytesOf(await b.client.videos.downloadContent(upload.id)));
      expect(facts.codec).toBe('h264');
    });

    it('createCharacter from an MP4, getCharacter, and create with characters: [{id}]', async () => {
      const c = await b.client.videos.createCharacter({ name: 'Captain Paper', video: await toFile(sourceBytes, 'captain.mp4', { type: 'video/mp4' }) });
      expect(c.id).toMatch(/^char_/);
      expect(c.name).toBe('Captain Paper');
      expect(await b.client.videos.getCharacter(c.id ?? '')).toMatchObject({ id: c.id, name: 'Captain Paper' });
      const v = await b.client.post<Video>('/videos', { body: { prompt: 'Captain Paper waves from the boat', characters: [{ id: c.id }] } });
      expect(v.object).toBe('video');
      const missingName = await apiError(b.client.post('/videos', { body: { prompt: 'someone waves', characters: [{ id: c.id }] } }));
      expect(missingName.status).toBe(400);
      const tooMany = await apiError(
        b.client.post('/videos', { body: { prompt: 'Captain Paper x3', characters: [{ id: c.id }, { id: c.id }, { id: c.id }] } }),
      );
      expect(tooMany.status).toBe(400);
      expect(tooMany.param).toBe('characters');
    });

    describe('errors', () => {
      it('401 without a Bearer token', async () => {
        const res = await fetch(`${b.baseURL}/videos`);
        expect(res.status).toBe(401);
        const body: unknown = await res.json();
        expect(body).toMatchObject({ error: { type: 'invalid_request_error' } });
      });

      it('400 naming the param for a bad enum, an integer seconds, a missing or too long prompt and an unoffered size', async () => {
        const badEnum = await apiError(b.client.post('/videos', { body: { prompt: 'x', seconds: '5' } }));
        expect([badEnum.status, badEnum.param]).toEqual([400, 'seconds']);
        const integer = await apiError(b.client.post('/videos', { body: { prompt: 'x', seconds: 4 } }));
        expect([integer.status, integer.param]).toEqual([400, 'seconds']);
        const noPrompt = await apiError(b.client.post('/videos', { body: { seconds: '4' } }));
        expect([noPrompt.status, noPrompt.param]).toEqual([400, 'prompt']);
        const size = await apiError(b.client.videos.create({ prompt: 'x', model: 'sora-2', size: '1792x1024' }));
        expect([size.status, size.param]).toEqual([400, 'size']);
        // The published limit is 32,000 characters: one more is refused before any job exists.
        const long = await apiError(b.client.videos.create({ prompt: 'x'.repeat(32_001), seconds: '4' }));
        expect([long.status, long.param]).toEqual([400, 'prompt']);
      });

      it('400 for an input_reference of the wrong size or type', async () => {
        const wrongSize = await apiError(
          b.client.videos.create({ prompt: 'x', size: '720x1280', input_reference: await toFile(solidPng(64, 64), 'small.png', { type: 'image/png' }) }),
        );
        expect([wrongSize.status, wrongSize.param]).toEqual([400, 'input_reference']);
        const wrongType = await apiError(
          b.client.videos.create({ prompt: 'x', input_reference: await toFile(Buffer.from('hello'), 'notes.txt', { type: 'text/plain' }) }),
        );
        expect([wrongType.status, wrongType.param]).toEqual([400, 'input_reference']);
      });

      it('400 when the source of a remix, edit or extension is not completed; 404 content before completion', async () => {
        const pending = await b.client.videos.create({ prompt: 'still rendering' });
        expect((await apiError(b.client.videos.remix(pending.id, { prompt: 'y' }))).status).toBe(400);
        expect((await apiError(b.client.videos.edit({ prompt: 'y', video: { id: pending.id } }))).status).toBe(400);
        expect((await apiError(b.client.videos.extend({ prompt: 'y', seconds: '4', video: { id: pending.id } }))).status).toBe(400);
        expect((await apiError(b.client.videos.downloadContent(pending.id))).status).toBe(404);
        await b.settle(pending.id);
      });

      it('404 for unknown ids', async () => {
        expect((await apiError(b.client.videos.retrieve('video_doesnotexist'))).status).toBe(404);
        expect((await apiError(b.client.videos.downloadContent('video_doesnotexist'))).status).toBe(404);
        expect((await apiError(b.client.videos.getCharacter('char_doesnotexist'))).status).toBe(404);
      });

      it('extensions refuse characters', async () => {
        const e = await apiError(b.client.post('/videos/extensions', { body: { prompt: 'x', seconds: '4', video: { id: source.id }, characters: [{ id: 'char_x' }] } }));
        expect([e.status, e.param]).toEqual([400, 'characters']);
      });
    });
  });
}

contract('Videos API contract (emulator)', emulatorBackend, 60_000);

const live = process.env['VIDBUILD_LIVE'] === '1' && (process.env['OPENAI_API_KEY'] ?? '') !== '';
describe.skipIf(!live)('live endpoint', () => {
  contract('Videos API contract (live)', liveBackend, 30 * 60_000);
});
