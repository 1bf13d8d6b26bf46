import { describe, expect, it } from 'vitest';
import { apply, emulator, readLock, tempProject, vidbuild } from './rig.js';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The manifest's `input_reference: { image_url }` / `{ file_id }` through the
 * real CLI and the emulator (issue 12): plan shows it, apply sends it as
 * JSON (asserted on what the emulator received), a new URL or a sha256 pin
 * replaces the video, and a bad URL is one located line, no stack.
 */

const manifest = (reference: string): string =>
  `version: 1\nvideos:\n  intro:\n    prompt: A lighthouse at dawn.\n    size: 1280x720\n    input_reference: ${reference}\n`;
const SHA = 'c'.repeat(64);

describe('input_reference as a URL or a file id (CLI)', () => {
  it('plans, sends JSON, and replaces on a new URL or a pin', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': manifest('{ image_url: "https://cdn.example.com/a.png" }') });

    const plan = await vidbuild(['plan'], dir);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/\+ intro\s+create/);

    const first = await apply(dir, emu);
    expect(first.code, first.stderr).toBe(0);
    const sent = emu.requests().filter((r) => r.route === 'POST /videos');
    expect(sent).toEqual([
      { route: 'POST /videos', encoding: 'json', body: { prompt: 'A lighthouse at dawn.', model: 'sora-2', size: '1280x720', seconds: '4', input_reference: { image_url: 'https://cdn.example.com/a.png' } } },
    ]);
    const lock1 = await readLock(dir);
    expect(lock1.videos['intro']?.job.status).toBe('completed');

    await writeFile(path.join(dir, 'videos.yaml'), manifest('{ image_url: "https://cdn.example.com/b.png" }'));
    const changed = await vidbuild(['plan'], dir);
    expect(changed.stdout).toMatch(/-\/\+ intro\s+replace\s+input_reference \(https:\/\/cdn\.example\.com\/a\.png → https:\/\/cdn\.example\.com\/b\.png\) changed/);
    expect((await apply(dir, emu)).code).toBe(0);
    const lock2 = await readLock(dir);
    expect(lock2.videos['intro']?.fingerprint).not.toBe(lock1.videos['intro']?.fingerprint);

    await writeFile(path.join(dir, 'videos.yaml'), manifest(`{ image_url: "https://cdn.example.com/b.png", sha256: ${SHA} }`));
    const pinned = await vidbuild(['plan'], dir);
    expect(pinned.stdout).toMatch(/intro\s+replace\s+input_reference \(sha256 pinned\) changed/);
    emu.resetStats();
    expect((await apply(dir, emu)).code).toBe(0);
    // The pin is vidbuild's: the API is sent the URL alone.
    expect(emu.requests().filter((r) => r.route === 'POST /videos').map((r) => r.body)).toEqual([expect.objectContaining({ input_reference: { image_url: 'https://cdn.example.com/b.png' } })]);
    expect((await readLock(dir)).videos['intro']?.fingerprint).not.toBe(lock2.videos['intro']?.fingerprint);
    expect((await vidbuild(['plan', '--detailed-exitcode'], dir)).code).toBe(0);
  }, 120_000);

  it('a file id goes as JSON {file_id}', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': manifest('{ file_id: file-abc123 }') });
    const r = await apply(dir, emu);
    expect(r.code, r.stderr).toBe(0);
    expect(emu.requests().filter((x) => x.route === 'POST /videos')).toEqual([expect.objectContaining({ encoding: 'json', body: expect.objectContaining({ input_reference: { file_id: 'file-abc123' } }) })]);
  }, 60_000);

  it('a bad URL is one line with file:line:col, no stack trace, and nothing is sent', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': manifest('{ image_url: "http://cdn.example.com/a.png" }') });
    for (const args of [['plan'], ['validate'], ['apply', '--yes', '--base-url', emu.baseURL]]) {
      const r = await vidbuild(args, dir);
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^videos\.yaml:6:35: `input_reference\.image_url` must use https/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(emu.requests()).toEqual([]);
  }, 60_000);
});
