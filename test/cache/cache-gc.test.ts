import { describe, expect, it } from 'vitest';
import { selectGarbage } from '../../src/cache/cache-gc.js';
import type { CacheEntry } from '../../src/cache/local-cache.js';
import { emptyLockfile, type Fingerprint, type JobId, type Lockfile, type Sha256 } from '../../src/lock/lockfile.js';
import type { TargetName } from '../../src/manifest/manifest.js';

const sha = (c: string): Sha256 => c.repeat(64) as Sha256;
const fp = (c: string): Fingerprint => `sha256:${c.repeat(64)}` as Fingerprint;
function entry(c: string, createdAt: string, objects: readonly string[]): CacheEntry {
  const [video, thumbnail] = objects;
  return {
    fingerprint: fp(c),
    name: `t${c}` as TargetName,
    kind: 'generate',
    prompt: c,
    model: 'sora-2',
    size: '720x1280',
    seconds: 4,
    jobId: `video_${c}` as JobId,
    createdAt,
    assets: { ...(video === undefined ? {} : { video: { sha256: sha(video), bytes: 100 } }), ...(thumbnail === undefined ? {} : { thumbnail: { sha256: sha(thumbnail), bytes: 100 } }) },
  };
}
const objects = ['1', '2', '3', '4', '9'].map((c) => ({ sha256: sha(c), bytes: 100 }));
/** A lock that uses entry `c` (its fingerprint) and object `3`. */
function lockUsing(c: string): Lockfile {
  const lock = emptyLockfile();
  return { ...lock, videos: { tc: { fingerprint: fp(c), assets: { video: { path: 'v/c.mp4', bytes: 100, sha256: sha('3') } } } } } as unknown as Lockfile;
}
const old = '2026-01-01T00:00:00.000Z';
const recent = '2026-06-01T00:00:00.000Z';
const keepAfter = new Date('2026-05-01T00:00:00.000Z');

describe('selectGarbage', () => {
  const entries = [entry('a', old, ['1', '2']), entry('b', '2026-02-01T00:00:00.000Z', ['2']), entry('c', old, ['3']), entry('d', recent, ['4'])];

  it('without a limit removes only objects nothing names', () => {
    const s = selectGarbage(entries, objects, lockUsing('c'), { maxBytes: undefined, keepAfter });
    expect(s).toMatchObject({ entries: [], objects: [{ sha256: sha('9') }], freedBytes: 100, totalBytes: 500, keptBytes: 400, overLimit: false });
  });

  it('evicts oldest first, keeps an object another kept entry shares, never the lock’s or the recent ones', () => {
    const s = selectGarbage(entries, objects, lockUsing('c'), { maxBytes: 300, keepAfter });
    // a goes (oldest unprotected); its object 2 stays for b, object 1 goes; 9 goes anyway.
    expect(s.entries).toEqual([fp('a')]);
    expect(s.objects.map((o) => o.sha256).sort()).toEqual([sha('1'), sha('9')]);
    expect(s).toMatchObject({ keptBytes: 300, overLimit: false });
    const all = selectGarbage(entries, objects, lockUsing('c'), { maxBytes: 0, keepAfter });
    expect(all.entries).toEqual([fp('a'), fp('b')]);
    expect(all.objects.map((o) => o.sha256).sort()).toEqual([sha('1'), sha('2'), sha('9')]);
    expect(all).toMatchObject({ keptBytes: 200, overLimit: true });
  });
});
