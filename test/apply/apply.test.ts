import { execFileSync } from 'node:child_process';
import { promises as fsp, chmodSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ffprobe from '@ffprobe-installer/ffprobe';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  apply,
  collect,
  emulator,
  expectLockMatchesDisk,
  listJobs,
  posts,
  readLock,
  spawnCli,
  tempProject,
  vidbuild,
} from './rig.js';

const MANIFEST = `version: 1
defaults: { model: sora-2, size: 720x1280, seconds: 4 }
outDir: out
videos:
  base:
    prompt: A lighthouse at dawn.
    assets: [video, thumbnail]
  night:
    remix: base
    prompt: The same lighthouse at night.
  longer:
    extend: base
    prompt: The camera rises.
    seconds: 4
  other:
    prompt: A quiet harbour.
`;

function probe(file: string): { codec: string; width: number; height: number } {
  try {
    chmodSync(ffprobe.path, 0o755);
  } catch {
    // read-only install: it is executable already or the call below says so
  }
  const out = execFileSync(ffprobe.path, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', file], { encoding: 'utf8' });
  const s = (JSON.parse(out) as { streams: { codec_name: string; width: number; height: number }[] }).streams[0];
  if (s === undefined) throw new Error(`${file}: no video stream`);
  return { codec: s.codec_name, width: s.width, height: s.height };
}

describe('vidbuild apply against the emulator', () => {
  it('materializes valid MP4s, is a no-op the second time, and regenerates exactly what a prompt edit touches', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': MANIFEST });

    const first = await apply(dir, emu);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    for (const name of ['base', 'night', 'longer', 'other']) {
      expect(probe(path.join(dir, 'out', `${name}.mp4`))).toEqual({ codec: 'h264', width: 720, height: 1280 });
    }
    expect(existsSync(path.join(dir, 'out', 'base.thumbnail.webp'))).toBe(true);
    expect(await expectLockMatchesDisk(dir)).toBe(5);
    expect(emu.stats().requests['POST /videos']).toBe(2);

    const before = posts(emu);
    const jobsBefore = Object.fromEntries(Object.entries((await readLock(dir)).videos).map(([k, v]) => [k, v.job.jobId]));
    const second = await apply(dir, emu);
    expect(second.code).toBe(0);
    expect(posts(emu)).toBe(before);

    // Edit the source's prompt: it and its two dependents get new jobs; `other` does not.
    await fsp.writeFile(path.join(dir, 'videos.yaml'), MANIFEST.replace('A lighthouse at dawn.', 'A lighthouse at dusk.'));
    const third = await apply(dir, emu);
    expect(third.code).toBe(0);
    expect(posts(emu) - before).toBe(3);
    const after = (await readLock(dir)).videos;
    expect(after['other']?.job.jobId).toBe(jobsBefore['other']);
    for (const n of ['base', 'night', 'longer']) expect(after[n]?.job.jobId).not.toBe(jobsBefore[n]);
    await expectLockMatchesDisk(dir);

    // Revert the prompt: the earlier jobs are in the cache; the plan says so and costs nothing,
    // and apply adopts them back into the lock without a single POST.
    await fsp.writeFile(path.join(dir, 'videos.yaml'), MANIFEST);
    const planned = await vidbuild(['plan', '--json'], dir);
    const planJson = JSON.parse(planned.stdout) as { steps: { name: string; action: string; reason: string }[]; summary: { cost: number } };
    expect(planJson.summary.cost).toBe(0);
    for (const n of ['base', 'night', 'longer']) {
      const s = planJson.steps.find((x) => x.name === n);
      expect(s?.action).toBe('fetch');
      expect(s?.reason).toMatch(/restore from cache/);
    }
    const postsBeforeRevert = posts(emu);
    const reverted = await apply(dir, emu);
    expect(reverted.code).toBe(0);
    expect(posts(emu)).toBe(postsBeforeRevert);
    const revertedLock = (await readLock(dir)).videos;
    for (const n of ['base', 'night', 'longer', 'other']) expect(revertedLock[n]?.job.jobId).toBe(jobsBefore[n]);
    await expectLockMatchesDisk(dir);

    // Delete an output: restored from the cache, no API call at all.
    const requestsBefore = Object.values(emu.stats().requests).reduce((a, b) => a + b, 0);
    await fsp.rm(path.join(dir, 'out', 'night.mp4'));
    const pulled = await vidbuild(['pull', '--base-url', emu.baseURL], dir);
    expect(pulled.code).toBe(0);
    expect(Object.values(emu.stats().requests).reduce((a, b) => a + b, 0)).toBe(requestsBefore);
    await expectLockMatchesDisk(dir);
  });

  it('a failed job does not stop its siblings; its dependents are skipped; exit code 1', async () => {
    const emu = await emulator();
    const dir = await tempProject({
      'videos.yaml': MANIFEST.replace('A lighthouse at dawn.', 'A lighthouse. [[fail:moderation_blocked]]'),
    });
    const r = await apply(dir, emu);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/base: failed \(job video_\w+\): moderation_blocked/);
    expect(r.stdout).toMatch(/night: skipped: source base did not complete/);
    expect(r.stdout).toMatch(/longer: skipped/);
    expect(existsSync(path.join(dir, 'out', 'other.mp4'))).toBe(true);
    expect((await readLock(dir)).videos['base']?.job.status).toBe('failed');
  });

  it('converges under 429s, 5xx, dropped connections and truncated downloads, paying once per target', async () => {
    const emu = await emulator({ faults: { seed: 11, '429': 0.08, '5xx': 0.08, reset: 0.08, truncate: 0.15 } });
    const dir = await tempProject({ 'videos.yaml': MANIFEST });
    let last = await apply(dir, emu, ['--json']);
    for (let i = 0; i < 4 && last.code !== 0; i++) last = await apply(dir, emu, ['--json']);
    expect(last.stderr).not.toMatch(/internal error/);
    expect(last.code).toBe(0);
    expect(await expectLockMatchesDisk(dir)).toBe(5);
    const jobs = await listJobs(emu);
    expect(jobs.length).toBe(4);
    const locked = new Set(Object.values((await readLock(dir)).videos).map((v) => v.job.jobId));
    expect(new Set(jobs.map((j) => j.id))).toEqual(locked);
  });

  it('kill -9 at many points of a run, then re-run: every target is created exactly once', async () => {
    const emu = await emulator({ latencyMs: 150, jobSeconds: 0.6 });
    const dir = await tempProject({ 'videos.yaml': MANIFEST });
    // Kill on the k-th event of these kinds: mid paid call (intent written, response held back
    // by the emulator's latency), right after an id is saved, and mid download.
    const killPoints: readonly [string, number][] = [['job-intent', 1], ['job-submitted', 1], ['job-intent', 1], ['asset-restored', 1]];
    let killedMidCall = 0;
    let allEvents = '';
    for (const [type, nth] of killPoints) {
      const child = spawnCli(['apply', '--yes', '--json', '--base-url', emu.baseURL], dir);
      let seen = 0;
      const r = await collect(child, (line) => {
        if (line.includes(`"type":"${type}"`) && ++seen === nth) child.kill('SIGKILL');
      });
      allEvents += r.stdout;
      if (r.code === 0) break; // finished before the kill point was reached
      expect(r.signal).toBe('SIGKILL');
      if (type === 'job-intent') killedMidCall++;
    }
    const final = await apply(dir, emu, ['--json']);
    allEvents += final.stdout;
    expect(final.code).toBe(0);
    // A kill between intent and id happened, so some re-run had an intent
    // without an id and went through reconciliation (videos.list), rather
    // than creating blindly.
    expect(killedMidCall).toBeGreaterThan(0);
    expect(allEvents).toMatch(/"type":"job-reconciled"/);
    expect(emu.stats().requests['GET /videos']).toBeGreaterThan(0);
    await expectLockMatchesDisk(dir);
    const jobs = await listJobs(emu);
    const lock = (await readLock(dir)).videos;
    // Exactly one job per target still in use, and no job was paid for twice with the same inputs.
    const prompts = jobs.map((j) => j.prompt);
    for (const prompt of ['A lighthouse at dawn.', 'The same lighthouse at night.', 'The camera rises.', 'A quiet harbour.']) {
      expect(prompts.filter((p) => p === prompt)).toHaveLength(1);
    }
    expect(new Set(Object.values(lock).map((v) => v.job.jobId)).size).toBe(4);
  });

  it('a second concurrent apply fails fast naming the holder', async () => {
    const emu = await emulator({ jobSeconds: 3 });
    const dir = await tempProject({ 'videos.yaml': MANIFEST });
    const first = spawnCli(['apply', '--yes', '--json', '--base-url', emu.baseURL], dir);
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const firstDone = collect(first, (line) => {
      if (line.includes('"type":"job-submitted"')) started();
    });
    await running;
    const second = await apply(dir, emu);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/this project is in use by pid \d+ \(vidbuild apply, since/);
    first.kill('SIGINT');
    const r = await firstDone;
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/"type":"interrupted"/);
  });

  it('never writes outside the project, even through a symlinked output folder', async () => {
    const emu = await emulator();
    const outside = await fsp.mkdtemp(path.join(os.tmpdir(), 'vidbuild-outside-'));
    onTestFinished(() => fsp.rm(outside, { recursive: true, force: true }));
    const dir = await tempProject({ 'videos.yaml': 'version: 1\noutDir: out\nvideos:\n  a: { prompt: A field. }\n' });
    await fsp.symlink(outside, path.join(dir, 'out'));
    const r = await apply(dir, emu);
    expect(r.code).toBe(1);
    expect(await fsp.readdir(outside)).toEqual([]);

    const escaping = await tempProject({ 'videos.yaml': 'version: 1\noutDir: ../escape\nvideos:\n  a: { prompt: A field. }\n' });
    const r2 = await apply(escaping, emu);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/videos\.yaml:\d+:\d+: .*outDir/);
    expect(existsSync(path.join(escaping, '..', 'escape'))).toBe(false);
  });
});
