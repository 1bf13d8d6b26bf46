import { describe, expect, it, onTestFinished } from 'vitest';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { LocalCache, hashFile, type CacheEntryMeta } from '../../src/cache/local-cache.js';
import type { Fingerprint, JobId, Sha256 } from '../../src/lock/lockfile.js';
import { tn } from '../plan/build-manifest.js';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-cache-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const fp = `sha256:${'ab'.repeat(32)}` as Fingerprint;
const meta = (jobId: string, createdAt: string): CacheEntryMeta => ({
  name: tn('intro'),
  kind: 'generate',
  prompt: 'dawn',
  model: 'sora-2',
  size: '720x1280',
  seconds: 4,
  jobId: jobId as JobId,
  createdAt,
});
const shaOf = (b: string) => createHash('sha256').update(b).digest('hex') as Sha256;

describe('LocalCache', () => {
  it('stores content-addressed objects, indexes them by fingerprint and restores them verified', async () => {
    const dir = await tempDir();
    const cache = new LocalCache(dir);
    const src = path.join(dir, 'out.mp4');
    await writeFile(src, 'video bytes');
    const sha = shaOf('video bytes');
    expect(await cache.lookup(fp)).toBeUndefined();

    await cache.addAsset(fp, meta('video_1', '2025-10-07T10:00:00Z'), 'video', src, sha, 11);
    expect(await readFile(path.join(dir, '.vidbuild/cache/objects', sha.slice(0, 2), sha), 'utf8')).toBe('video bytes');
    expect([...(await cache.variantsFor(fp))]).toEqual(['video']);
    expect(await cache.lookup(fp)).toMatchObject({ fingerprint: fp, jobId: 'video_1', assets: { video: { sha256: sha, bytes: 11 } } });

    // Editing the output in place must not reach the cached object.
    await chmod(src, 0o644);
    await writeFile(src, 'edited by hand');
    const dest = path.join(dir, 'renders', 'intro.mp4');
    const r = await cache.restoreTo(fp, 'video', dest);
    expect(r).toMatchObject({ ok: true, bytes: 11, sha256: sha });
    expect(await readFile(dest, 'utf8')).toBe('video bytes');
    expect((await hashFile(dest)).sha256).toBe(sha);
    expect(await cache.restoreTo(fp, 'thumbnail', dest)).toEqual({ ok: false, reason: 'not-cached' });
  });

  it('a restored output edited in place (the way root or an in-place tool writes) leaves the cached object intact', async () => {
    const dir = await tempDir();
    const cache = new LocalCache(dir);
    const src = path.join(dir, 'out.mp4');
    await writeFile(src, 'paid video');
    const sha = shaOf('paid video');
    await cache.addAsset(fp, meta('video_1', 'x'), 'video', src, sha, 10);
    const dest = path.join(dir, 'renders', 'intro.mp4');
    expect(await cache.restoreTo(fp, 'video', dest)).toMatchObject({ ok: true });
    // An ordinary, writable file of its own (not a hard link to the read-only object).
    const st = await stat(dest);
    expect(st.nlink).toBe(1);
    expect(st.mode & 0o777).toBe(0o644);
    await appendFile(dest, ' + a watermark');
    expect(await readFile(cache.objectPath(sha), 'utf8')).toBe('paid video');
    expect(await cache.restoreTo(fp, 'video', dest)).toMatchObject({ ok: true, sha256: sha });
    expect(await readFile(dest, 'utf8')).toBe('paid video');
  });

  it('refuses to add a file whose bytes are not what the caller measured', async () => {
    const dir = await tempDir();
    const src = path.join(dir, 'out.mp4');
    await writeFile(src, 'abc');
    await expect(new LocalCache(dir).addAsset(fp, meta('video_1', 'x'), 'video', src, shaOf('abd'), 3)).rejects.toThrow(/changed while being cached/);
  });

  it('detects and drops a corrupt object instead of restoring it', async () => {
    const dir = await tempDir();
    const cache = new LocalCache(dir);
    const src = path.join(dir, 'out.mp4');
    await writeFile(src, 'good');
    const sha = shaOf('good');
    await cache.addAsset(fp, meta('video_1', 'x'), 'video', src, sha, 4);
    const object = cache.objectPath(sha);
    await chmod(object, 0o644);
    await writeFile(object, 'evil');
    expect(await cache.restoreTo(fp, 'video', path.join(dir, 'dest.mp4'))).toEqual({ ok: false, reason: 'object-corrupt' });
    // Gone from the entry too: a plan no longer counts on it.
    expect(await cache.restoreTo(fp, 'video', path.join(dir, 'dest.mp4'))).toEqual({ ok: false, reason: 'not-cached' });
    expect((await cache.lookup(fp))?.assets).toEqual({});
  });

  it('lists a target’s history newest first', async () => {
    const dir = await tempDir();
    const cache = new LocalCache(dir);
    const src = path.join(dir, 'out.mp4');
    await writeFile(src, 'v');
    const fp2 = `sha256:${'cd'.repeat(32)}` as Fingerprint;
    await cache.addAsset(fp, meta('video_1', '2025-10-07T10:00:00Z'), 'video', src, shaOf('v'), 1);
    await cache.addAsset(fp2, meta('video_2', '2025-10-07T11:00:00Z'), 'video', src, shaOf('v'), 1);
    expect((await cache.entriesForTarget(tn('intro'))).map((e) => e.jobId)).toEqual(['video_2', 'video_1']);
    expect(await cache.entriesForTarget(tn('other'))).toEqual([]);
  });

  it('keeps every variant when the variants of one job are added concurrently (even from two instances)', async () => {
    const dir = await tempDir();
    const files = { video: 'v-bytes', thumbnail: 't-bytes', spritesheet: 's-bytes' } as const;
    await Promise.all(
      Object.entries(files).map(async ([variant, body]) => {
        const src = path.join(dir, `${variant}.bin`);
        await writeFile(src, body);
        const cache = new LocalCache(dir);
        await cache.addAsset(fp, meta('video_1', 'x'), variant as 'video' | 'thumbnail' | 'spritesheet', src, shaOf(body), body.length);
      }),
    );
    expect([...(await new LocalCache(dir).variantsFor(fp))].sort()).toEqual(['spritesheet', 'thumbnail', 'video']);
  });
});
