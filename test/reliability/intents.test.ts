import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { apply, collect, emulator, expectLockMatchesDisk, listJobs, posts, readLock, spawnCli, tempProject, vidbuild } from '../apply/rig.js';

/**
 * Issue 13 items 6, 7 and 8: an intent (a paid call whose id was never saved)
 * is resolved against `videos.list` to exactly the job that call created:
 * never the target's own older job, never a job of another clone, and it
 * follows its inputs when the target is renamed.
 */
const manifest = (name: string): string =>
  `version: 1\noutDir: out\ndefaults: { model: sora-2, size: 720x1280, seconds: 4 }\nvideos:\n  ${name}: { prompt: A red kite over the dunes. }\n`;

/** Runs `args` and kills it -9 once the server has made a new job but before the client hears its id. */
async function killAfterServerCreates(dir: string, emu: RunningEmulator, args: readonly string[]): Promise<void> {
  const jobCount = (): number => Object.values(emu.stats().jobs).reduce((a, n) => a + n, 0);
  const before = jobCount();
  const child = spawnCli(['apply', '--yes', '--json', '--base-url', emu.baseURL, ...args], dir);
  const done = collect(child);
  while (jobCount() === before) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGKILL');
  await done;
}

describe('intents resolve to the job their call made', () => {
  it('after a kill -9 during apply --replace, the re-run adopts the new paid job, not the target\'s own old one', async () => {
    // Responses are held 1.5 s after the server acted: the kill lands while the id is on its way back.
    const emu = await emulator({ latencyMs: 1500, jobSeconds: 0.5 });
    const dir = await tempProject({ 'videos.yaml': manifest('clip') });
    expect((await apply(dir, emu)).code).toBe(0);
    const old = (await readLock(dir)).videos['clip']?.job.jobId;
    expect(old).toBeDefined();

    await killAfterServerCreates(dir, emu, ['--replace', 'clip']);
    const intent = (await readLock(dir)).videos['clip']?.job as unknown as { state: string; supersedes?: string[] };
    expect(intent.state).toBe('intent');
    expect(intent.supersedes).toEqual([old]);
    const fresh = (await listJobs(emu)).map((j) => j.id).find((id) => id !== old);
    expect(fresh).toBeDefined();

    const postsBefore = posts(emu);
    const again = await apply(dir, emu);
    expect(again.code, again.stdout).toBe(0);
    expect(posts(emu)).toBe(postsBefore);
    // Was: the old job (same request, made within the clock slack) was adopted and the new paid one orphaned.
    expect((await readLock(dir)).videos['clip']?.job.jobId).toBe(fresh);
    await expectLockMatchesDisk(dir);
  });

  it('a target renamed after a kill -9 takes over its intent: no second paid job, and prune deletes nothing', async () => {
    const emu = await emulator({ latencyMs: 1500, jobSeconds: 0.5 });
    const dir = await tempProject({ 'videos.yaml': manifest('dunes') });
    await killAfterServerCreates(dir, emu, []);
    expect((await readLock(dir)).videos['dunes']?.job.state).toBe('intent');
    const made = (await listJobs(emu))[0]?.id;
    expect(made).toBeDefined();

    await fsp.writeFile(path.join(dir, 'videos.yaml'), manifest('kite'));
    const plan = await vidbuild(['plan'], dir);
    expect(plan.stdout).toMatch(/kite\s+resume\s+renamed from dunes \(same inputs\): interrupted run/);
    expect(plan.stdout).not.toMatch(/dunes\s+orphan/);
    const postsBefore = posts(emu);
    const r = await apply(dir, emu);
    expect(r.code, r.stdout).toBe(0);
    // Was: a second paid job for `kite`, and prune then deleted the first.
    expect(posts(emu)).toBe(postsBefore);
    expect((await readLock(dir)).videos['kite']?.job.jobId).toBe(made);
    await fsp.access(path.join(dir, 'out', 'kite.mp4'));

    const pruned = await vidbuild(['prune', '--yes', '--base-url', emu.baseURL], dir);
    expect(pruned.code, pruned.stdout + pruned.stderr).toBe(0);
    expect(pruned.stdout).toContain('pruned dunes (no job of the interrupted run was found)');
    expect(emu.stats().requests['DELETE /videos/{id}'] ?? 0).toBe(0);
    expect((await listJobs(emu)).map((j) => j.id)).toEqual([made]);
    expect(Object.keys((await readLock(dir)).videos)).toEqual(['kite']);
  });

  it('an intent matches only jobs created within its window: a later identical job of another clone is not adopted', async () => {
    const emu = await emulator({ jobSeconds: 0.5 });
    const dir = await tempProject({ 'videos.yaml': manifest('clip') });
    const clone = await tempProject({ 'videos.yaml': manifest('clip') });
    // The clone makes the same request now; this project's intent is from 20 minutes ago.
    expect((await apply(clone, emu)).code).toBe(0);
    const theirs = (await readLock(clone)).videos['clip']?.job.jobId;
    expect((await apply(dir, emu)).code).toBe(0);
    const lockPath = path.join(dir, 'videos.lock');
    const lock = JSON.parse(await fsp.readFile(lockPath, 'utf8')) as { videos: Record<string, { job: Record<string, unknown>; assets: unknown }> };
    const entry = lock.videos['clip'];
    if (entry === undefined) throw new Error('no clip');
    const ours = entry.job['jobId'];
    entry.job = { state: 'intent', intentAt: new Date(Date.now() - 20 * 60_000).toISOString(), request: entry.job['request'] };
    entry.assets = {};
    await fsp.writeFile(lockPath, JSON.stringify(lock, null, 2));
    await fsp.rm(path.join(dir, 'out'), { recursive: true });
    await fsp.rm(path.join(dir, '.vidbuild'), { recursive: true });

    const postsBefore = posts(emu);
    const r = await apply(dir, emu);
    expect(r.code, r.stdout).toBe(0);
    // Neither job was made by a call 20 minutes ago: a new one is made, theirs and ours are untouched.
    expect(posts(emu)).toBe(postsBefore + 1);
    const now = (await readLock(dir)).videos['clip']?.job.jobId;
    expect([theirs, ours]).not.toContain(now);
    expect((await listJobs(emu)).map((j) => j.id)).toEqual(expect.arrayContaining([theirs, ours, now]));
  });
});
