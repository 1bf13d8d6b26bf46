import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';

/**
 * Requests a careless or hostile client sends (hand-built multipart field
 * names, broken URLs) and CLI misuse: each gets one clear answer and leaves
 * the emulator serving everyone else as before.
 */

let renderCacheDir: string;
let stateDir: string;
let emulator: RunningEmulator;
let clock = Date.now();
beforeAll(async () => {
  renderCacheDir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-renders-'));
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-emu-abuse-'));
  emulator = await startEmulator({ dir: stateDir, jobSeconds: 2, fps: 8, renderCacheDir, now: () => clock });
});
afterAll(async () => {
  await emulator.stop();
  await rm(stateDir, { recursive: true, force: true });
  await rm(renderCacheDir, { recursive: true, force: true });
});

const auth = { authorization: 'Bearer k' };

describe('hostile requests', () => {
  it('a multipart field named __proto__[...] is refused and does not change how later requests are read', async () => {
    const form = new FormData();
    form.append('prompt', 'pollute');
    form.append('__proto__[kind]', 'file');
    form.append('__proto__[bytes]', 'x');
    const res = await fetch(`${emulator.baseURL}/videos`, { method: 'POST', body: form, headers: auth });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { param: '__proto__[kind]', code: 'invalid_multipart' } });
    expect(Object.prototype).not.toHaveProperty('kind');

    // The next clients are served as usual: a multipart create, then a JSON edit by id.
    const client = new OpenAI({ apiKey: 'k', baseURL: emulator.baseURL, maxRetries: 0 });
    const v = await client.videos.create({ prompt: 'after the attempt' });
    expect(v.status).toBe('in_progress');
    clock += 2000;
    const edit = await fetch(`${emulator.baseURL}/videos/edits`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'night', video: { id: v.id } }),
    });
    expect(edit.status).toBe(200);
  });

  it('constructor[...] and prototype fields are plain unknown parameters', async () => {
    const form = new FormData();
    form.append('prompt', 'p');
    form.append('constructor[prototype][x]', '1');
    const res = await fetch(`${emulator.baseURL}/videos`, { method: 'POST', body: form, headers: auth });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { param: 'constructor', code: 'unknown_parameter' } });
  });

  it('an uploaded MP4 whose frames do not decode is refused on upload (rendering it looped ffmpeg forever)', async () => {
    const client = new OpenAI({ apiKey: 'k', baseURL: emulator.baseURL, maxRetries: 0 });
    const v = await client.videos.create({ prompt: 'source of the broken copy' });
    clock += 2000;
    const mp4 = Buffer.from(await (await client.videos.downloadContent(v.id)).arrayBuffer());
    // Same boxes, same moov, but every coded byte zeroed: probes as an MP4, decodes to nothing.
    const mdat = mp4.indexOf('mdat', 0, 'latin1');
    expect(mdat).toBeGreaterThan(0);
    const broken = Buffer.concat([mp4.subarray(0, mdat + 4), Buffer.alloc(mp4.length - mdat - 4)]);
    const upload = () => OpenAI.toFile(broken, 'broken.mp4', { type: 'video/mp4' });
    const refusals = [
      await rejection(client.videos.edit({ prompt: 'edit it', video: await upload() })),
      await rejection(client.videos.extend({ prompt: 'extend it', seconds: '4', video: await upload() })),
      await rejection(client.videos.createCharacter({ name: 'Broken', video: await upload() })),
    ];
    for (const e of refusals) expect(e).toMatchObject({ status: 400, param: 'video', code: 'invalid_video_file' });
    // The intact file is still taken.
    const ok = await client.videos.edit({ prompt: 'edit the good one', video: await OpenAI.toFile(mp4, 'good.mp4', { type: 'video/mp4' }) });
    expect(ok.status).toBe('in_progress');
  });

  it('an input_reference with a right header over an undecodable body is refused (its job completed and every download was a 500)', async () => {
    const client = new OpenAI({ apiKey: 'k', baseURL: emulator.baseURL, maxRetries: 0 });
    const v = await client.videos.create({ prompt: 'gives a webp thumbnail' });
    clock += 2000;
    const webp = Buffer.from(await (await client.videos.downloadContent(v.id, { variant: 'thumbnail' })).arrayBuffer());
    expect(webp.toString('latin1', 8, 12)).toBe('WEBP');
    // RIFF, VP8 chunk header and frame size intact; the coded partitions garbage.
    const broken = Buffer.concat([webp.subarray(0, 40), Buffer.alloc(webp.length - 40, 0x55)]);
    const e = await rejection(client.videos.create({ prompt: 'from a broken image', input_reference: await OpenAI.toFile(broken, 'ref.webp', { type: 'image/webp' }) }));
    expect(e).toMatchObject({ status: 400, param: 'input_reference', code: 'invalid_image_file' });
    const ok = await client.videos.create({ prompt: 'from the intact image', input_reference: await OpenAI.toFile(webp, 'ref.webp', { type: 'image/webp' }) });
    expect(ok.status).toBe('in_progress');
  });

  it('a client whose base URL lacks /v1 is told where the API is', async () => {
    const client = new OpenAI({ apiKey: 'k', baseURL: emulator.baseURL.replace(/\/v1$/, ''), maxRetries: 0 });
    const e = await rejection(client.videos.create({ prompt: 'lost' }));
    expect(e).toMatchObject({ status: 404, code: 'unknown_url' });
    expect((e as Error).message).toContain(`the API is served under /v1 (baseURL ${emulator.baseURL})`);
  });

  it('an id with broken percent-encoding is a 404 in the API error shape, not a 500', async () => {
    for (const url of [`${emulator.baseURL}/videos/%ZZ`, `${emulator.baseURL}/videos/%E0%A4%A/content`, `${emulator.baseURL}/videos/characters/%`]) {
      const res = await fetch(url, { headers: auth });
      expect(res.status, url).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    }
  });
});

describe('render work folders', () => {
  it('folders left by an emulator that died mid-render are removed at start; a live one is left', async () => {
    const renders = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-renders-sweep-'));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-emu-sweep-'));
    onTestFinished(() => rm(renders, { recursive: true, force: true }));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    // A pid that surely belonged to a process that has exited.
    const gone = spawn(process.execPath, ['-e', '']);
    const deadPid = await new Promise<number>((resolve) => gone.on('exit', () => resolve(gone.pid ?? 0)));
    const dead = `tmp-${deadPid}-0123456789ab`;
    const live = `tmp-${process.ppid}-0123456789ab`;
    for (const name of [dead, live]) {
      await mkdir(path.join(renders, name));
      await writeFile(path.join(renders, name, 'out.mp4'), 'partial');
    }
    const emu = await startEmulator({ dir, jobSeconds: 1, fps: 8, renderCacheDir: renders });
    await emu.stop();
    expect(await readdir(renders)).toEqual([live]);
  });
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e: unknown) {
    return e;
  }
  throw new Error('expected a rejection');
}

async function runCli(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['bin/vidbuild.js', 'emulator', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => void child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, stderr };
}

describe('vidbuild emulator: misuse', () => {
  it('a port in use is one line naming the port and what to do', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as net.AddressInfo).port;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-emu-port-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const { code, stderr } = await runCli(['--port', String(port), '--dir', dir]);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(stderr).toContain('--port 0');
  });

  it('--end-status must be a final status: queued or in_progress would keep clients polling forever', async () => {
    for (const status of ['in_progress', 'queued', '']) {
      const { code, stderr } = await runCli(['--port', '0', '--dir', path.join(os.tmpdir(), 'vidbuild-emu-never-made'), '--end-status', status]);
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      // An empty value is refused by the CLI's option parsing before the emulator sees it.
      expect(stderr).toContain(status === '' ? "option '--end-status <status>' argument '' is invalid. expected a value, got an empty one" : 'endStatus must be a');
    }
  });

  it('--dir naming a file is one line saying so, and the file is left alone', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-emu-file-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'notes.txt');
    await writeFile(file, 'keep me');
    for (const target of [file, path.join(file, 'state')]) {
      const { code, stderr } = await runCli(['--port', '0', '--dir', target]);
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(await readFile(file, 'utf8')).toBe('keep me');
      expect(stderr).toContain(target === file ? `state directory ${file} is a file, not a directory` : `state directory ${target}: ${file} is a file, not a directory`);
    }
  });
});
