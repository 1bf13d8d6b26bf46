import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv, renderCacheDir, tempProject, vidbuild } from '../apply/rig.js';
import { LocalCache } from '../../src/cache/local-cache.js';
import { LinkInTreeError } from '../../src/core/link-free-tree.js';
import type { Fingerprint, JobId, Sha256 } from '../../src/lock/lockfile.js';
import type { TargetName } from '../../src/manifest/manifest.js';
import { tempDir } from './run-cli.js';

/**
 * Below the state folders (`.vidbuild/cache`, `.vidbuild/emulator`,
 * `.vidbuild/obsolete`) nothing may be a symlink: vidbuild made every folder
 * there. A link one level down is refused in one line naming it, before
 * anything is read, written or deleted through it (QA: gc deleted a cached
 * video outside the project through `objects/f7`; apply wrote the index, an
 * object and the emulator's renders outside).
 */
const MANIFEST = (prompt: string): string => `version: 1\nvideos:\n  a: { prompt: ${prompt} }\n`;
const FAST = { VIDBUILD_EMULATOR_JOB_SECONDS: '0.2', VIDBUILD_EMULATOR_FPS: '4' };
const APPLY = ['apply', '--backend', 'emulator', '--yes'];

/** A project applied with prompt `hi`, then edited to `bye` (not applied yet). */
async function editedProject(env: NodeJS.ProcessEnv): Promise<string> {
  const dir = await tempProject({ 'videos.yaml': MANIFEST('hi') });
  const first = await vidbuild(APPLY, dir, env);
  expect(first.code, first.stderr).toBe(0);
  await fsp.writeFile(path.join(dir, 'videos.yaml'), MANIFEST('bye'));
  return dir;
}

async function listing(dir: string): Promise<string[]> {
  return (await fsp.readdir(dir, { recursive: true })).map(String).sort();
}

function oneLine(r: { stdout: string; stderr: string }, shown: string, outside: string): void {
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toBe(`${shown} is a symlink leading outside the project (to ${outside}); vidbuild reads and writes only inside the manifest's folder: replace it with a folder`);
  expect(r.stdout + r.stderr).not.toMatch(/internal error|\n\s+at /);
}

describe('a symlink below the state folders', () => {
  const shared = cliEnv({ ...FAST, VIDBUILD_EMULATOR_RENDER_CACHE: renderCacheDir });

  it('gc refuses a cache shard linked outside the project and deletes nothing, there or here', async () => {
    const dir = await editedProject(shared);
    expect((await vidbuild(APPLY, dir, shared)).code).toBe(0);
    const outside = await tempDir('vidbuild-outside-');
    const lock = JSON.parse(await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8')) as { videos: { a: { assets: { video: { sha256: string } } } } };
    const objects = path.join(dir, '.vidbuild/cache/objects');
    // The shard of an object no lock uses: what gc would delete.
    const shard = (await fsp.readdir(objects)).find((s) => !lock.videos.a.assets.video.sha256.startsWith(s));
    expect(shard).toBeDefined();
    const moved = path.join(outside, 'obj');
    await fsp.rename(path.join(objects, shard ?? ''), moved);
    await fsp.symlink(moved, path.join(objects, shard ?? ''));
    const before = { outside: await listing(outside), index: await listing(path.join(dir, '.vidbuild/cache/index')) };

    const r = await vidbuild(['gc', '--max-size', '0', '--keep-days', '0', '--yes'], dir, shared);
    expect(r.code).toBe(1);
    oneLine(r, `.vidbuild/cache/objects/${shard}`, moved);
    expect(await listing(outside)).toEqual(before.outside);
    expect(before.outside.length).toBeGreaterThan(1);
    expect(await listing(path.join(dir, '.vidbuild/cache/index'))).toEqual(before.index);
  });

  it('apply refuses an index folder linked outside: nothing written there, the lock and outputs kept', async () => {
    const dir = await editedProject(shared);
    const outside = await tempDir('vidbuild-outside-');
    const index = path.join(dir, '.vidbuild/cache/index');
    await fsp.rm(index, { recursive: true });
    await fsp.symlink(outside, index);
    const lock = await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8');
    const video = await fsp.readFile(path.join(dir, 'videos/a.mp4'));

    const r = await vidbuild(APPLY, dir, shared);
    expect(r.code).toBe(1);
    oneLine(r, '.vidbuild/cache/index', outside);
    expect(await listing(outside)).toEqual([]);
    expect(await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8')).toBe(lock);
    expect((await fsp.readFile(path.join(dir, 'videos/a.mp4'))).equals(video)).toBe(true);
  });

  it('apply refuses object shards linked outside before paying, and writes no object there', async () => {
    const dir = await editedProject(shared);
    const outside = await tempDir('vidbuild-outside-');
    const objects = path.join(dir, '.vidbuild/cache/objects');
    const present = new Set(await fsp.readdir(objects));
    // Wherever the new video's object would go, its shard leads outside.
    for (let i = 0; i < 256; i++) {
      const shard = i.toString(16).padStart(2, '0');
      if (!present.has(shard)) await fsp.symlink(outside, path.join(objects, shard));
    }
    const lock = await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8');

    const r = await vidbuild(APPLY, dir, shared);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^\.vidbuild\/cache\/objects\/[0-9a-f]{2} is a symlink leading outside the project/);
    expect(r.stdout).not.toContain('submitted');
    expect(await listing(outside)).toEqual([]);
    expect(await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8')).toBe(lock);
  });

  it("apply refuses the in-process emulator's renders folder linked outside, and renders nothing there", async () => {
    // The emulator's own render cache (no shared one): this is where it renders.
    const env = cliEnv(FAST);
    delete env['VIDBUILD_EMULATOR_RENDER_CACHE'];
    const dir = await tempProject({ 'videos.yaml': MANIFEST('renders') });
    const outside = await tempDir('vidbuild-outside-');
    await fsp.mkdir(path.join(dir, '.vidbuild/emulator'), { recursive: true });
    await fsp.symlink(outside, path.join(dir, '.vidbuild/emulator/renders'));

    const r = await vidbuild(APPLY, dir, env);
    expect(r.code).toBe(1);
    oneLine(r, '.vidbuild/emulator/renders', outside);
    expect(await listing(outside)).toEqual([]);
  });

  it('a record of the obsolete ledger that is a symlink is refused, not read', async () => {
    const dir = await tempProject({ 'videos.yaml': MANIFEST('ledger') });
    const outside = await tempDir('vidbuild-outside-');
    await fsp.writeFile(path.join(outside, 'their.lock'), '{"lockfileVersion": 1, "videos": {}, "characters": {}}\n');
    await fsp.mkdir(path.join(dir, '.vidbuild/obsolete'), { recursive: true });
    await fsp.symlink(path.join(outside, 'their.lock'), path.join(dir, '.vidbuild/obsolete/video_0123456789abcdef.lock'));
    const r = await vidbuild(['plan'], dir, shared);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `.vidbuild/obsolete/video_0123456789abcdef.lock is a symlink leading outside the project (to ${path.join(outside, 'their.lock')}); vidbuild reads and writes only inside the manifest's folder: replace it with the file itself`,
    );
  });

  it('the cache checks each folder as it goes: a link made after the project was opened is refused too', async () => {
    const dir = await tempProject({ 'videos.mp4': 'not a video, just bytes' });
    const outside = await tempDir('vidbuild-outside-');
    const cache = new LocalCache(dir);
    const sha = 'ab'.repeat(32) as Sha256;
    await fsp.mkdir(path.join(dir, '.vidbuild/cache/objects'), { recursive: true });
    await fsp.symlink(outside, path.join(dir, '.vidbuild/cache/objects/ab'));
    const fp = `sha256:${'cd'.repeat(32)}` as Fingerprint;
    const meta = { name: 'a' as TargetName, kind: 'generate' as const, prompt: 'p', model: 'sora-2', size: '720x1280', seconds: 4, jobId: 'video_1' as JobId, createdAt: new Date().toISOString() };
    await expect(cache.addAsset(fp, meta, 'video', path.join(dir, 'videos.mp4'), sha, 23)).rejects.toBeInstanceOf(LinkInTreeError);
    await expect(cache.hasObject({ sha256: sha, bytes: 23 })).rejects.toThrow('.vidbuild/cache/objects/ab is a symlink leading outside the project');
    await expect(cache.removeObject(sha)).rejects.toBeInstanceOf(LinkInTreeError);
    await expect(cache.objectSlot(sha)).rejects.toBeInstanceOf(LinkInTreeError);
    expect(await listing(outside)).toEqual([]);
  });
});
