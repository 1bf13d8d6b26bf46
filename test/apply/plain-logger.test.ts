import { describe, expect, it } from 'vitest';
import pc from 'picocolors';
import type { ExecEvent } from '../../src/execute/events.js';
import type { JobId, Fingerprint } from '../../src/lock/lockfile.js';
import type { TargetName } from '../../src/manifest/manifest.js';
import { isFingerprint, isJobId, isTargetKey } from '../../src/lock/lock-names.js';
import { plainLogger } from '../../src/cli/progress/plain-logger.js';

const at = '2026-01-01T00:00:00.000Z';
const name = (s: string): TargetName => {
  if (!isTargetKey(s)) throw new Error(`bad name ${s}`);
  return s;
};
const jobId = ((id: string): JobId => {
  if (!isJobId(id)) throw new Error('bad id');
  return id;
})('video_0123');
const fingerprint = ((fp: string): Fingerprint => {
  if (!isFingerprint(fp)) throw new Error('bad fingerprint');
  return fp;
})(`sha256:${'0'.repeat(64)}`);

describe('the plain (CI) log', () => {
  it('prints one line per status change, and none for the end of a job (its completed / failed line says it)', () => {
    const lines: string[] = [];
    const log = plainLogger((l) => lines.push(l), pc.createColors(false));
    const progress = (status: string, progress: number): ExecEvent => ({ type: 'job-progress', at, name: name('b'), jobId, status, progress, elapsedMs: 0 });
    log(progress('queued', 0));
    log(progress('in_progress', 10));
    log(progress('in_progress', 50));
    log(progress('failed', 100));
    log({ type: 'job-failed', at, name: name('b'), jobId, code: 'moderation_blocked', message: 'Blocked.' });
    log(progress('completed', 100));
    log({ type: 'job-completed', at, name: name('b'), jobId, fingerprint, expiresAt: undefined });
    expect(lines).toEqual([
      '  b: queued (0%)',
      '  b: in progress (10%)',
      '✗ b: failed (job video_0123): moderation_blocked: Blocked.',
      '✓ b: job video_0123 completed',
    ]);
  });

  it('repeats a running job once per heartbeat of its own elapsed time, whatever the poll rate; 0 turns it off', () => {
    const tick = (elapsedMs: number, status = 'in_progress', progress = 4): ExecEvent => ({ type: 'job-progress', at, name: name('b'), jobId, status, progress, elapsedMs });
    const polls = [tick(0, 'queued', 0), tick(1_000), ...Array.from({ length: 300 }, (_, i) => tick(1_000 + i * 500, 'in_progress', 4 + i / 10))];
    const lines: string[] = [];
    const log = plainLogger((l) => lines.push(l), pc.createColors(false), { heartbeatMs: 60_000 });
    for (const p of polls) log(p);
    expect(lines).toEqual([
      '  b: queued (0%)',
      '  b: in progress (4%)',
      '  b: still in progress (16%) after 1 min 1 s',
      '  b: still in progress (28%) after 2 min 1 s',
    ]);
    const off: string[] = [];
    const quiet = plainLogger((l) => off.push(l), pc.createColors(false), { heartbeatMs: 0 });
    for (const p of polls) quiet(p);
    expect(off).toEqual(['  b: queued (0%)', '  b: in progress (4%)']);
  });

  it('repeats every failure under the final summary, so a long log need not be scrolled back', () => {
    const lines: string[] = [];
    const log = plainLogger((l) => lines.push(l), pc.createColors(false));
    log({ type: 'job-failed', at, name: name('b'), jobId, code: 'moderation_blocked', message: 'Blocked.' });
    log({ type: 'character-failed', at, name: 'hero' as never, code: 'invalid_video', message: 'Too short.' });
    // One target failing once per output is one failed target, with each reason under it.
    log({ type: 'job-failed', at, name: name('b'), jobId, code: 'write-failed', message: 'Disk full.' });
    log({ type: 'job-failed', at, name: name('b'), jobId, code: 'write-failed', message: 'Disk full.' });
    const summary = { created: 1, resumed: 0, fetched: 0, unchanged: 0, failed: 1, skipped: 0, inFlight: 0, notDownloaded: 0, cost: 0, unpriced: 0, free: true, elapsedMs: 1000, interrupted: false };
    log({ type: 'run-finished', at, summary });
    expect(lines.slice(4)).toEqual([
      expect.stringMatching(/^Done: 1 created, /),
      'Failed (2):',
      '  ✗ b: moderation_blocked: Blocked.',
      '      write-failed: Disk full.',
      '  ✗ character hero: invalid_video: Too short.',
    ]);
  });
});

