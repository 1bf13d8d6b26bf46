import { describe, expect, it } from 'vitest';
import { parseShard, rootOf, targetsInShard, describeShard } from '../../src/plan/shard.js';
import { buildManifest, tn, type TargetSpec } from './build-manifest.js';

function chains(n: number): TargetSpec[] {
  const specs: TargetSpec[] = [];
  for (let i = 0; i < n; i++) {
    specs.push({ name: `clip${i}` });
    if (i % 3 === 0) specs.push({ name: `remix${i}`, kind: 'remix', source: `clip${i}` });
    if (i % 3 === 0) specs.push({ name: `ext${i}`, kind: 'extend', source: `remix${i}` });
  }
  return specs;
}

describe('apply --shard K/N', () => {
  it.each([
    { text: '1/1', ok: true },
    { text: '2/4', ok: true },
    { text: '4/4', ok: true },
    { text: '0/4', ok: false },
    { text: '5/4', ok: false },
    { text: '1/0', ok: false },
    { text: '2', ok: false },
    { text: '-1/4', ok: false },
    { text: '1/4/2', ok: false },
    { text: ' 1/4', ok: false },
  ])('parses $text: $ok', ({ text, ok }) => {
    const parsed = parseShard(text);
    expect(parsed.ok).toBe(ok);
    if (!parsed.ok) expect(parsed.error).toMatch(/^--shard must be K\/N with 1 ≤ K ≤ N ≤ 1000, e\.g\. --shard 2\/4 \(got /);
  });

  it('splits every target into exactly one shard, chains whole, the same way every time', () => {
    const manifest = buildManifest(chains(60));
    for (const count of [1, 2, 3, 4, 7]) {
      const shards = Array.from({ length: count }, (_, i) => targetsInShard(manifest, { index: i + 1, count }));
      const all = shards.flat();
      expect(new Set(all).size).toBe(manifest.targets.size);
      expect(all).toHaveLength(manifest.targets.size);
      for (const names of shards) {
        for (const name of names) expect(names).toContain(rootOf(manifest, name));
      }
      // Deterministic, and not all in one shard for a manifest this size.
      expect(shards).toEqual(Array.from({ length: count }, (_, i) => targetsInShard(manifest, { index: i + 1, count })));
      if (count > 1) expect(Math.max(...shards.map((s) => s.length))).toBeLessThan(manifest.targets.size);
    }
    expect(rootOf(manifest, tn('ext3'))).toBe('clip3');
  });

  it('says which targets the shard has', () => {
    const manifest = buildManifest(chains(3));
    expect(describeShard(manifest, { index: 1, count: 2 }, [tn('clip0'), tn('remix0')])).toBe('shard 1/2: 2 of 5 targets: clip0, remix0');
  });
});
