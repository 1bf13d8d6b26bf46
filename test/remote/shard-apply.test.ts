import { describe, expect, it } from 'vitest';
import { emulator, posts, vidbuild } from '../apply/rig.js';
import { s3Server } from './s3-server.js';
import { applyIn, clones, countEvents, expectComplete, TARGETS } from './clones.js';

/** A CI matrix of two runners, each `apply --shard K/2`, then anyone's full apply: one job per target. */
describe('apply --shard K/N through the shared lock', () => {
  it('refuses a bad K/N in one line, and plan shows which targets a shard takes', async () => {
    const s3 = await s3Server();
    const c = await clones(s3, 'team');
    for (const args of [['plan', '--shard', '3/2'], ['apply', '--yes', '--shard', '0/2'], ['apply', '--yes', '--shard', 'half']]) {
      const r = await vidbuild(args, c.a, c.env);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/--shard must be K\/N with 1 ≤ K ≤ N/);
    }
    const one = await vidbuild(['plan', '--shard', '1/2'], c.a, c.env);
    const two = await vidbuild(['plan', '--shard', '2/2'], c.a, c.env);
    const count = (out: string): number => Number(/^shard \d\/2: (\d+) of 20 targets/m.exec(out)?.[1]);
    expect(count(one.stdout) + count(two.stdout)).toBe(TARGETS);
    // A remix is in its source's shard.
    const names = (one.stdout.split('\n')[0] ?? '').replace(/^[^:]*: [^:]*: /, '').split(', ');
    for (const i of [0, 1, 2, 3, 4]) expect(names.includes(`remix${i}`), `remix${i} with clip${i}`).toBe(names.includes(`clip${i}`));
  });

  it('two runners on shards 1/2 and 2/2 at once, then a full apply in each: 20 creates in all, every output in both', async () => {
    const s3 = await s3Server();
    const emu = await emulator({ latencyMs: 20 });
    const c = await clones(s3, 'team');
    const [ra, rb] = await Promise.all([applyIn(c.a, emu, c.env, ['--shard', '1/2']), applyIn(c.b, emu, c.env, ['--shard', '2/2'])]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    expect(posts(emu)).toBe(TARGETS);
    // No shard waited on the other: they share no target.
    expect(countEvents(ra.stdout, 'remote-claim') + countEvents(rb.stdout, 'remote-claim')).toBe(0);
    const [fa, fb] = await Promise.all([applyIn(c.a, emu, c.env), applyIn(c.b, emu, c.env)]);
    expect(fa.code, fa.stderr).toBe(0);
    expect(fb.code, fb.stderr).toBe(0);
    expect(posts(emu)).toBe(TARGETS);
    expect(await expectComplete(c.b)).toEqual(await expectComplete(c.a));
    // Each clone takes the other shard's ten from the remote cache, never from a new job.
    const fetched = (out: string): number => out.split('\n').filter((l) => l.includes('"type":"target-done"') && l.includes('"outcome":"fetched"')).length;
    expect(fetched(fa.stdout) + fetched(fb.stdout)).toBe(TARGETS);
    expect(countEvents(fa.stdout, 'remote-claim') + countEvents(fb.stdout, 'remote-claim')).toBe(0);
  });
});
