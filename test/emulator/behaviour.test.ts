import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/server.js';
import { ffmpegClip } from '../fixtures/images.js';

/**
 * Emulator-only behaviour: knobs, faults, persistence, stats. Time is a fake
 * clock moved by hand, so no test sleeps or depends on speed.
 */

let renderCacheDir: string;
beforeAll(async () => {
  renderCacheDir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-renders-'));
});
afterAll(async () => {
  await rm(renderCacheDir, { recursive: true, force: true });
});

interface Rig {
  readonly emulator: RunningEmulator;
  readonly client: OpenAI;
  readonly dir: string;
  advance(ms: number): void;
  now(): number;
}

async function rig(options: Partial<EmulatorOptions> = {}, dir?: string): Promise<Rig> {
  const stateDir = dir ?? (await mkdtemp(path.join(os.tmpdir(), 'vidbuild-emu-')));
  let clock = Date.now();
  const emulator = await startEmulator({ dir: stateDir, jobSeconds: 2, fps: 8, renderCacheDir, now: () => clock, ...options });
  onTestFinished(async () => {
    await emulator.stop();
    if (dir === undefined) await rm(stateDir, { recursive: true, force: true });
  });
  return {
    emulator,
    client: new OpenAI({ apiKey: 'k', baseURL: emulator.baseURL, maxRetries: 0 }),
    dir: stateDir,
    advance: (ms) => {
      clock += ms;
    },
    now: () => clock,
  };
}

const statsOf = async (e: RunningEmulator): Promise<unknown> => (await fetch(e.baseURL.replace(/\/v1$/, '/__emulator/stats'))).json();

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e: unknown) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('lifecycle knobs', () => {
  it('progress rises while in progress, and the retrieve suggests when to poll again', async () => {
    const r = await rig();
    const v = await r.client.videos.create({ prompt: 'progress' });
    r.advance(1000);
    const res = await fetch(`${r.emulator.baseURL}/videos/${v.id}`, { headers: { authorization: 'Bearer k' } });
    expect(res.headers.get('openai-poll-after-ms')).toMatch(/^\d+$/);
    const mid: unknown = await res.json();
    expect(mid).toMatchObject({ status: 'in_progress', progress: 50 });
    r.advance(1000);
    const done = await r.client.videos.retrieve(v.id);
    expect(done).toMatchObject({ status: 'completed', progress: 100 });
    expect(done.expires_at).toBe((done.completed_at ?? 0) + 3600);
  });

  it('[[fail:CODE]] in the prompt ends the job failed with that code, and it has no content', async () => {
    const r = await rig();
    const v = await r.client.videos.create({ prompt: 'doomed [[fail:moderation_blocked]]' });
    r.advance(2500);
    const done = await r.client.videos.retrieve(v.id);
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('moderation_blocked');
    expect((await rejection(r.client.videos.downloadContent(v.id)))).toMatchObject({ status: 404 });
    expect(await r.client.videos.delete(v.id)).toMatchObject({ deleted: true });
  });

  it('--end-status makes jobs end in a status outside the SDK union', async () => {
    const r = await rig({ endStatus: 'expired' });
    const v = await r.client.videos.create({ prompt: 'never finishes' });
    r.advance(2500);
    expect((await r.client.videos.retrieve(v.id)).status).toBe('expired');
  });

  it('--max-running keeps later jobs queued until a slot frees', async () => {
    const r = await rig({ maxRunning: 1 });
    const a = await r.client.videos.create({ prompt: 'first' });
    const b = await r.client.videos.create({ prompt: 'second' });
    r.advance(1000);
    expect((await r.client.videos.retrieve(a.id)).status).toBe('in_progress');
    expect((await r.client.videos.retrieve(b.id)).status).toBe('queued');
    r.advance(1500);
    expect((await r.client.videos.retrieve(a.id)).status).toBe('completed');
    expect((await r.client.videos.retrieve(b.id)).status).toBe('in_progress');
    expect(await statsOf(r.emulator)).toMatchObject({ jobs: { completed: 1, in_progress: 1 } });
  });

  it('assets expire after --asset-ttl: content answers 404', async () => {
    const r = await rig({ assetTtlSeconds: 60 });
    const v = await r.client.videos.create({ prompt: 'ephemeral' });
    r.advance(2000);
    const done = await r.client.videos.retrieve(v.id);
    expect(done.expires_at).toBe((done.completed_at ?? 0) + 60);
    r.advance(61_000);
    expect(await rejection(r.client.videos.downloadContent(v.id))).toMatchObject({ status: 404 });
  });

  it('state survives a restart: ids, status and content', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-emu-restart-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    let clock = Date.now();
    const first = await startEmulator({ dir, jobSeconds: 2, fps: 8, renderCacheDir, now: () => clock });
    const v = await new OpenAI({ apiKey: 'k', baseURL: first.baseURL }).videos.create({ prompt: 'survivor' });
    await first.stop();
    clock += 3000;
    const second = await startEmulator({ dir, jobSeconds: 2, fps: 8, renderCacheDir, now: () => clock });
    onTestFinished(() => second.stop());
    const client = new OpenAI({ apiKey: 'k', baseURL: second.baseURL });
    expect(await client.videos.retrieve(v.id)).toMatchObject({ id: v.id, status: 'completed', prompt: 'survivor' });
    const res = await client.videos.downloadContent(v.id);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
  });

  it('a job keeps the frame rate it was created with: a restart with another --fps serves the same bytes', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-emu-fps-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    let clock = Date.now();
    const bytesOf = async (e: RunningEmulator, id: string): Promise<Buffer> =>
      Buffer.from(await (await new OpenAI({ apiKey: 'k', baseURL: e.baseURL }).videos.downloadContent(id)).arrayBuffer());
    const first = await startEmulator({ dir, jobSeconds: 1, fps: 4, renderCacheDir, now: () => clock });
    const v = await new OpenAI({ apiKey: 'k', baseURL: first.baseURL }).videos.create({ prompt: 'steady' });
    clock += 2000;
    const before = await bytesOf(first, v.id);
    await first.stop();
    const second = await startEmulator({ dir, jobSeconds: 1, fps: 8, renderCacheDir, now: () => clock });
    onTestFinished(() => second.stop());
    expect((await bytesOf(second, v.id)).equals(before)).toBe(true);
    // New jobs use the new rate.
    const w = await new OpenAI({ apiKey: 'k', baseURL: second.baseURL }).videos.create({ prompt: 'steady' });
    clock += 2000;
    expect((await bytesOf(second, w.id)).equals(before)).toBe(false);
  });

  it('multipart characters[][id] is read as the SDK encodes nested fields', async () => {
    const r = await rig();
    const v = await r.client.videos.create({ prompt: 'source clip' });
    r.advance(2000);
    const mp4 = Buffer.from(await (await r.client.videos.downloadContent(v.id)).arrayBuffer());
    const a = await r.client.videos.createCharacter({ name: 'Ada', video: await OpenAI.toFile(mp4, 'a.mp4', { type: 'video/mp4' }) });
    const b = await r.client.videos.createCharacter({ name: 'Bo', video: await OpenAI.toFile(mp4, 'b.mp4', { type: 'video/mp4' }) });
    const form = new FormData();
    form.append('prompt', 'Ada and Bo wave');
    form.append('characters[][id]', a.id ?? '');
    form.append('characters[][id]', b.id ?? '');
    const res = await fetch(`${r.emulator.baseURL}/videos`, { method: 'POST', body: form, headers: { authorization: 'Bearer k' } });
    expect(res.status).toBe(200);
    const notMp4 = await rejection(r.client.videos.createCharacter({ name: 'X', video: await OpenAI.toFile(Buffer.from('nope'), 'x.mp4') }));
    expect(notMp4).toMatchObject({ status: 400, param: 'video' });
  });
});

describe('character videos', () => {
  it('are judged as validate judges them (same limits from data/capabilities.json, same words)', async () => {
    const r = await rig();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-charvid-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const clip = async (name: string, w: number, h: number, s: number) => {
      const file = path.join(dir, name);
      ffmpegClip(file, w, h, s);
      return OpenAI.toFile(await readFile(file), name, { type: 'video/mp4' });
    };
    for (const [name, w, h, s] of [['small.mp4', 640, 480, 3], ['long.mp4', 1280, 720, 6]] as const) {
      const e = await rejection(r.client.videos.createCharacter({ name: 'X', video: await clip(name, w, h, s) }));
      expect(e).toMatchObject({ status: 400, param: 'video' });
      expect(String((e as APIError).message)).toContain('a character video must be 16:9 or 9:16, 720p to 1080p, 2 to 4 s long');
    }
    const made = await r.client.videos.createCharacter({ name: 'Ada', video: await clip('ok.mp4', 1280, 720, 3) });
    expect(made.id).toMatch(/^char_/);
  });
});

describe('extension durations', () => {
  it('seconds is the enum of data/capabilities.json (4, 8, 12, 16, 20), as validate checks it: 5 is a 400 naming seconds', async () => {
    const r = await rig();
    const v = await r.client.videos.create({ prompt: 'a source to extend' });
    r.advance(2500);
    for (const seconds of ['5', '1', '21']) {
      const e = await rejection(r.client.post('/videos/extensions', { body: { prompt: 'more', seconds, video: { id: v.id } } }));
      expect(e).toBeInstanceOf(APIError);
      expect(e).toMatchObject({ status: 400, param: 'seconds', type: 'invalid_request_error', code: 'invalid_value' });
      expect(String((e as APIError).message)).toContain("'4', '8', '12', '16', '20'");
    }
    const ok = await r.client.post<{ seconds: string }>('/videos/extensions', { body: { prompt: 'more', seconds: '16', video: { id: v.id } } });
    expect(ok).toMatchObject({ seconds: '20' });
  });
});

describe('list', () => {
  it('a cursor deleted while a client pages still marks its place', async () => {
    const r = await rig();
    const ids: string[] = [];
    for (const p of ['one', 'two', 'three']) ids.push((await r.client.videos.create({ prompt: p })).id);
    r.advance(3000);
    const first = await r.client.videos.list({ limit: 1, order: 'asc' });
    expect(first.data.map((v) => v.id)).toEqual([ids[0]]);
    await r.client.videos.delete(ids[0] ?? '');
    const next = await r.client.videos.list({ limit: 1, order: 'asc', after: ids[0] });
    expect(next.data.map((v) => v.id)).toEqual([ids[1]]);
    expect(next.has_more).toBe(true);
    // Issue 12 item 3: an id this server never made ends the listing (an empty last page), see video-service.ts.
    const unknown = await r.client.videos.list({ after: 'video_never' });
    expect(unknown.data).toEqual([]);
    expect(unknown.has_more).toBe(false);
  });

  it('limit=0 is in the spec\'s range: an empty page that says whether there are jobs', async () => {
    const r = await rig();
    const none = await r.client.videos.list({ limit: 0 });
    expect(none.data).toEqual([]);
    expect(none.has_more).toBe(false);
    await r.client.videos.create({ prompt: 'one' });
    const some = await r.client.videos.list({ limit: 0 });
    expect(some.data).toEqual([]);
    expect(some.has_more).toBe(true);
    const over = await rejection(r.client.videos.list({ limit: 101 }));
    expect(over).toMatchObject({ status: 400, param: 'limit' });
  });
});

describe('characters', () => {
  it('a name is at most 80 characters, as the spec says (validate allows 64)', async () => {
    const r = await rig();
    const v = await r.client.videos.create({ prompt: 'source clip' });
    r.advance(2000);
    const mp4 = Buffer.from(await (await r.client.videos.downloadContent(v.id)).arrayBuffer());
    const video = async (): Promise<File> => OpenAI.toFile(mp4, 'a.mp4', { type: 'video/mp4' });
    const ok80 = await r.client.videos.createCharacter({ name: 'A'.repeat(80), video: await video() });
    expect(ok80.name).toBe('A'.repeat(80));
    const long = await rejection(r.client.videos.createCharacter({ name: 'A'.repeat(81), video: await video() }));
    expect(long).toMatchObject({ status: 400, param: 'name', code: 'string_above_max_length' });
  });
});

describe('introspection', () => {
  it('counts requests by route and jobs by status, without auth and outside /v1', async () => {
    const r = await rig();
    const v = await r.client.videos.create({ prompt: 'counted' });
    await r.client.videos.retrieve(v.id);
    await r.client.videos.retrieve(v.id);
    await r.client.videos.remix(v.id, { prompt: 'too early' }).catch(() => undefined);
    expect(await statsOf(r.emulator)).toEqual({
      requests: { 'POST /videos': 1, 'GET /videos/{id}': 2, 'POST /videos/{id}/remix': 1 },
      jobs: { in_progress: 1 },
      faults: {},
    });
    expect(r.emulator.stats().requests['POST /videos']).toBe(1);
    const reset = await fetch(r.emulator.baseURL.replace(/\/v1$/, '/__emulator/reset-stats'), { method: 'POST' });
    expect(reset.status).toBe(200);
    expect(r.emulator.stats().requests).toEqual({});
  });
});

describe('faults', () => {
  it('429 carries Retry-After and retry-after-ms, and the SDK retries through it', async () => {
    const r = await rig({ faults: { seed: 3, '429': 1 } });
    const res = await fetch(`${r.emulator.baseURL}/videos`, { headers: { authorization: 'Bearer k' } });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.headers.get('retry-after-ms')).toMatch(/^\d+$/);
    const flaky = await rig({ faults: { seed: 11, '429': 0.5 } });
    const client = new OpenAI({ apiKey: 'k', baseURL: flaky.emulator.baseURL, maxRetries: 8 });
    const v = await client.videos.create({ prompt: 'eventually' });
    expect(v.status).toBe('in_progress');
  });

  it('a 5xx on a create lands sometimes before and sometimes after the job is created', async () => {
    const r = await rig({ faults: { seed: 5, '5xx': 1 } });
    const outcomes = [];
    for (let i = 0; i < 12; i++) outcomes.push(await rejection(r.client.videos.create({ prompt: `attempt ${i}` })));
    for (const e of outcomes) expect(e instanceof APIError && e.status !== undefined && e.status >= 500).toBe(true);
    const created = r.emulator.stats().jobs['in_progress'] ?? 0;
    expect(created).toBeGreaterThan(0);
    expect(created).toBeLessThan(12);
    // Introspection is never faulted.
    expect(await statsOf(r.emulator)).toMatchObject({ requests: { 'POST /videos': 12 }, faults: { '5xx': 12 } });
  });

  it('reset drops the connection; truncate cuts a download short', async () => {
    const ok = await rig();
    const v = await ok.client.videos.create({ prompt: 'download me' });
    ok.advance(2000);
    const full = (await (await ok.client.videos.downloadContent(v.id)).arrayBuffer()).byteLength;
    await ok.emulator.stop();
    const reset = await rig({ faults: { seed: 1, reset: 1 } }, ok.dir);
    expect(await rejection(fetch(`${reset.emulator.baseURL}/videos`, { headers: { authorization: 'Bearer k' } }))).toBeInstanceOf(TypeError);
    await reset.emulator.stop();
    const cut = await rig({ faults: { seed: 1, truncate: 1 } }, ok.dir);
    cut.advance(2000);
    const res = await fetch(`${cut.emulator.baseURL}/videos/${v.id}/content`, { headers: { authorization: 'Bearer k' } });
    expect(Number(res.headers.get('content-length'))).toBe(full);
    expect(await rejection(res.arrayBuffer())).toBeInstanceOf(TypeError);
  });

  it('--rpm answers 429 above the limit', async () => {
    const r = await rig({ rpm: 2 });
    const get = (): Promise<Response> => fetch(`${r.emulator.baseURL}/videos`, { headers: { authorization: 'Bearer k' } });
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(200);
    const limited = await get();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('--latency-ms holds the response after acting: a client that gives up has still created the job', async () => {
    const r = await rig({ latencyMs: 30_000 });
    const abort = new AbortController();
    const pending = fetch(`${r.emulator.baseURL}/videos`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'lost response' }),
      signal: abort.signal,
    });
    while ((r.emulator.stats().jobs['in_progress'] ?? 0) === 0) await new Promise((resolve) => setImmediate(resolve));
    abort.abort();
    expect(await rejection(pending)).toMatchObject({ name: 'AbortError' });
    expect(r.emulator.stats().jobs).toEqual({ in_progress: 1 });
  });
});

describe('vidbuild emulator (CLI)', () => {
  it('prints its URL, serves the API, and exits 0 on SIGTERM', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-emu-cli-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const child = spawn(process.execPath, ['bin/vidbuild.js', 'emulator', '--port', '0', '--dir', dir, '--job-seconds', '1', '--fps', '8'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const [line] = await new Promise<string[]>((resolve) => {
      createInterface({ input: child.stdout }).once('line', (l) => resolve([l]));
    });
    const m = /^vidbuild emulator listening on (http:\/\/127\.0\.0\.1:\d+\/v1) \(state in .+\)$/.exec(line ?? '');
    expect(m).not.toBeNull();
    const client = new OpenAI({ apiKey: 'k', baseURL: m?.[1] });
    expect((await client.videos.create({ prompt: 'from the CLI' })).object).toBe('video');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('rejects bad --faults with one line and exit 1', async () => {
    const child = spawn(process.execPath, ['bin/vidbuild.js', 'emulator', '--faults', '{"429":2}'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('probability');
  });

  it('one emulator per state directory: a second one (here or in another process) fails naming the holder; kill -9 leaves a claim that is taken over', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-emu-claim-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const inProcess = await startEmulator({ dir, jobSeconds: 1, fps: 8, renderCacheDir });
    await expect(startEmulator({ dir, jobSeconds: 1, fps: 8, renderCacheDir })).rejects.toThrow(/in use by another emulator in this process/);
    await inProcess.stop();

    const child = spawn(process.execPath, ['bin/vidbuild.js', 'emulator', '--port', '0', '--dir', dir, '--fps', '8'], { stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => void child.kill('SIGKILL'));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
    const url = /(http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(line)?.[1] ?? '';
    const second = await rejection(startEmulator({ dir, jobSeconds: 1, fps: 8, renderCacheDir }));
    expect(String(second)).toContain(`is in use by the emulator of pid ${child.pid} at ${url}`);

    child.kill('SIGKILL');
    await exited;
    expect(JSON.parse(await readFile(path.join(dir, 'emulator.pid'), 'utf8'))).toMatchObject({ pid: child.pid });
    const after = await startEmulator({ dir, jobSeconds: 1, fps: 8, renderCacheDir });
    await after.stop();
  });

  it('a state.json that is not JSON is named in the error', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-emu-bad-state-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'state.json'), '{not json');
    await expect(startEmulator({ dir, jobSeconds: 1, fps: 8, renderCacheDir })).rejects.toThrow(`${path.join(dir, 'state.json')}: not valid JSON`);
    // and the directory is not left claimed
    await writeFile(path.join(dir, 'state.json'), '');
    await rm(path.join(dir, 'state.json'));
    const ok = await startEmulator({ dir, jobSeconds: 1, fps: 8, renderCacheDir });
    await ok.stop();
  });
});
