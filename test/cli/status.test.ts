import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apply, emulator, readLock, tempProject, vidbuild } from '../apply/rig.js';

/**
 * `vidbuild status` read against the lockfile as a user goes through a
 * project's life: after apply, after deleting outputs, with a failed target,
 * after the remote copies expired; and `--json` is one document even when the
 * project cannot be read.
 */
interface Row {
  target: string;
  action: string;
  jobId?: string;
  status?: string;
  expiresAt?: string;
  error?: { code: string };
  local: string;
}

const MANIFEST = `version: 1
defaults: { model: sora-2, size: 720x1280, seconds: 4 }
outDir: out
videos:
  base: { prompt: "A lighthouse at dawn." }
  night: { remix: base, prompt: "The same lighthouse at night." }
  bad: { prompt: "A storm [[fail:moderation_blocked]]" }
`;

async function status(dir: string, baseURL: string): Promise<{ rows: Row[]; table: string }> {
  const json = await vidbuild(['status', '--json', '--base-url', baseURL], dir);
  expect(json).toMatchObject({ code: 0, stderr: '' });
  const table = await vidbuild(['status', '--base-url', baseURL], dir);
  expect(table.code).toBe(0);
  return { rows: JSON.parse(json.stdout) as Row[], table: table.stdout };
}

describe('vidbuild status', () => {
  it('follows the lockfile through apply, deleted outputs, a failed target and expiry', async () => {
    const emu = await emulator({ assetTtlSeconds: 3 });
    const dir = await tempProject({ 'videos.yaml': MANIFEST });
    expect((await apply(dir, emu)).code).toBe(1); // bad fails

    const lock = await readLock(dir);
    const after = await status(dir, emu.baseURL);
    const by = new Map(after.rows.map((r) => [r.target, r]));
    for (const name of ['base', 'night']) {
      expect(by.get(name)).toMatchObject({ action: 'unchanged', jobId: lock.videos[name]?.job.jobId, status: 'completed', local: 'ok' });
    }
    expect(by.get('bad')).toMatchObject({ action: 'failed', jobId: lock.videos['bad']?.job.jobId, status: 'failed', error: { code: 'moderation_blocked' }, local: 'video missing' });
    expect(after.table).toMatch(/^bad +failed +video_\S+ +failed \(moderation_blocked\) /m);

    await fsp.rm(path.join(dir, 'out', 'base.mp4'));
    const deleted = await status(dir, emu.baseURL);
    expect(deleted.rows.find((r) => r.target === 'base')).toMatchObject({ action: 'fetch', local: 'video missing' });
    expect(deleted.table).toMatch(/^base +fetch +video_\S+ +completed .* video missing$/m);

    // Past the emulator's asset TTL: expired in the table; with the output gone and the cache emptied, regenerate.
    await new Promise((r) => setTimeout(r, 3500));
    await fsp.rm(path.join(dir, '.vidbuild', 'cache'), { recursive: true, force: true });
    const expired = await status(dir, emu.baseURL);
    expect(expired.rows.find((r) => r.target === 'base')).toMatchObject({ action: 'regenerate', local: 'video missing' });
    expect(expired.rows.find((r) => r.target === 'night')).toMatchObject({ local: 'ok' });
    expect(expired.table).toMatch(/^base +regenerate +video_\S+ +completed +\S+ ago +expired +video missing$/m);
    expect(expired.table).toMatch(/^night .* expired +ok$/m);
    expect(await readLock(dir)).toEqual(lock); // status writes nothing
  });

  it('--json is one JSON document on stdout even when the project cannot be read, nothing on stderr', async () => {
    const dir = await tempProject({ 'videos.yaml': MANIFEST, 'videos.lock': '{"lockfileVersion": 1,' });
    const corrupt = await vidbuild(['status', '--json'], dir);
    expect(corrupt).toMatchObject({ code: 1, stderr: '' });
    expect(JSON.parse(corrupt.stdout)).toMatchObject({ file: 'videos.yaml', ok: false, diagnostics: [{ code: 'lock-corrupt', location: { file: 'videos.lock' } }] });
    const missing = await vidbuild(['status', '--json', '-f', 'nope.yaml'], dir);
    expect(missing).toMatchObject({ code: 1, stderr: '' });
    expect(JSON.parse(missing.stdout)).toMatchObject({ file: 'nope.yaml', ok: false, diagnostics: [{ code: 'manifest-missing' }] });
    // Without --json: one line on stderr, nothing on stdout.
    const plain = await vidbuild(['status'], dir);
    expect(plain).toMatchObject({ code: 1, stdout: '' });
    expect(plain.stderr.trim().split('\n')).toHaveLength(1);
  });
});
