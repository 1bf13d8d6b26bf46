import { describe, expect, it, onTestFinished } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gatherDiskFacts } from '../../src/plan/disk-facts.js';
import { emptyLockfile } from '../../src/lock/lockfile.js';
import { LocalCache } from '../../src/cache/local-cache.js';
import type { Manifest } from '../../src/manifest/manifest.js';
import { buildManifest, pp } from './build-manifest.js';
import { sha, simulateApply } from './simulate-apply.js';

async function project(): Promise<{ dir: string; manifest: Manifest }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-facts-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const m = buildManifest([
    { name: 'intro', input: 'refs/a.png' },
    { name: 'night', kind: 'remix', source: 'intro' },
  ]);
  await mkdir(path.join(dir, 'refs'));
  await mkdir(path.join(dir, 'videos'));
  await writeFile(path.join(dir, 'refs/a.png'), 'png');
  return { dir, manifest: { ...m, projectDir: dir, file: path.join(dir, 'videos.yaml') } };
}

const old = new Date(Date.now() - 60_000);

describe('gatherDiskFacts', () => {
  it('hashes referenced files and outputs, and reuses the stat-keyed hash cache', async () => {
    const { dir, manifest } = await project();
    await writeFile(path.join(dir, 'videos/intro.mp4'), 'intro video');
    await utimes(path.join(dir, 'videos/intro.mp4'), old, old);
    await utimes(path.join(dir, 'refs/a.png'), old, old);
    const facts = await gatherDiskFacts(manifest, emptyLockfile());
    expect(facts.fileHashes.get(pp('refs/a.png'))).toBe(sha('png'));
    expect(facts.outputs.get(pp('videos/intro.mp4'))).toEqual({ bytes: 11, sha256: sha('intro video') });
    expect(facts.outputs.get(pp('videos/night.mp4'))).toBeUndefined();
    expect(facts.warnings).toEqual([]);

    const cacheFile = JSON.parse(await readFile(path.join(dir, '.vidbuild/hash-cache.json'), 'utf8'));
    expect(cacheFile.files['videos/intro.mp4'][3]).toBe(sha('intro video'));
    // A cached hash is trusted while size, mtime and inode agree: prove it by lying in the cache.
    cacheFile.files['videos/intro.mp4'][3] = sha('from cache');
    await writeFile(path.join(dir, '.vidbuild/hash-cache.json'), JSON.stringify(cacheFile));
    expect((await gatherDiskFacts(manifest, emptyLockfile())).outputs.get(pp('videos/intro.mp4'))?.sha256).toBe(sha('from cache'));
    // ...and not once the file changes.
    await writeFile(path.join(dir, 'videos/intro.mp4'), 'intro video 2');
    expect((await gatherDiskFacts(manifest, emptyLockfile())).outputs.get(pp('videos/intro.mp4'))?.sha256).toBe(sha('intro video 2'));
  });

  it('does not follow symlinks out of the project', async () => {
    const { dir, manifest } = await project();
    const outside = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-outside-'));
    onTestFinished(() => rm(outside, { recursive: true, force: true }));
    await writeFile(path.join(outside, 'secret.mp4'), 'secret');
    await symlink(path.join(outside, 'secret.mp4'), path.join(dir, 'videos/intro.mp4'));
    const facts = await gatherDiskFacts(manifest, emptyLockfile());
    expect(facts.outputs.get(pp('videos/intro.mp4'))).toBeUndefined();
    expect(facts.warnings?.map((w) => w.code)).toEqual(['symlink-outside']);
  });

  it('reads the cache index only for targets with outputs to restore', async () => {
    const { dir, manifest } = await project();
    const { lock } = simulateApply(manifest, { 'refs/a.png': 'png' });
    const fp = lock.videos['intro' as never]?.fingerprint;
    if (fp === undefined) throw new Error('no fp');
    const src = path.join(dir, 'tmp.mp4');
    await writeFile(src, 'x');
    await new LocalCache(dir).addAsset(fp, { name: 'intro' as never, kind: 'generate', prompt: 'p', model: 'sora-2', size: '720x1280', seconds: 4, jobId: 'video_intro' as never, createdAt: 'x' }, 'video', src, sha('x'), 1);
    const facts = await gatherDiskFacts(manifest, lock);
    expect([...(facts.cache.get(fp) ?? [])]).toEqual(['video']);
  });
});
