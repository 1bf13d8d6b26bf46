import { describe, expect, it } from 'vitest';
import { DurationStats, estimatedDuration, expectedEnd, nextPollDelay, type PollInput } from '../../src/execute/poll-interval.js';

/** A job sent at t=0 on a provider asking for 500 ms between polls, on this machine's clamps. */
function input(over: Partial<PollInput>): PollInput {
  return { startedAtMs: 0, nowMs: 0, first: undefined, latest: undefined, typicalMs: undefined, pollAfterMs: 500, tightInRow: 0, minMs: 20, maxMs: 5_000, ...over };
}

describe('when to poll a job next', () => {
  it('aims at the end a progress trend points to, a moment after it, reading whole percent as the middle of the step', () => {
    // 10 % at 250 ms and 50 % at 1,250 ms: 0.04 %/ms, 49.5 % left after 50.5 %.
    const end = expectedEnd(input({ nowMs: 1_250, first: { atMs: 250, progress: 10 }, latest: { atMs: 1_250, progress: 50 } }));
    expect(end).toEqual({ atMs: 1_250 + 49.5 / 0.04, rough: false });
    const delay = nextPollDelay(input({ nowMs: 1_250, first: { atMs: 250, progress: 10 }, latest: { atMs: 1_250, progress: 50 } }));
    expect(delay.ms).toBeGreaterThan(1_237);
    expect(delay.ms).toBeLessThan(1_260);
    expect(delay.tight).toBe(false);
  });

  it('uses the typical duration of this run while the job is younger than it; scouts halfway on one early sample', () => {
    expect(expectedEnd(input({ nowMs: 100, typicalMs: 2_500 }))).toEqual({ atMs: 2_500, rough: false });
    const scout = nextPollDelay(input({ nowMs: 200, latest: { atMs: 200, progress: 9 }, first: { atMs: 200, progress: 9 } }));
    const roughEnd = (200 * 100) / 9.5;
    expect(scout.ms).toBe(Math.round(Math.max(500, (roughEnd - 200) * 0.5)));
  });

  it('goes under the provider floor at most twice in a row near the end, then honours it', () => {
    const nearEnd = { nowMs: 2_480, first: { atMs: 1_000, progress: 40 }, latest: { atMs: 2_480, progress: 99 } };
    const first = nextPollDelay(input({ ...nearEnd, tightInRow: 0 }));
    expect(first.tight).toBe(true);
    expect(first.ms).toBeLessThan(500);
    expect(nextPollDelay(input({ ...nearEnd, tightInRow: 1 })).tight).toBe(true);
    const third = nextPollDelay(input({ ...nearEnd, tightInRow: 2 }));
    expect(third).toEqual({ ms: 500, tight: false });
  });

  it('never waits less than the minimum nor more than the maximum, and backs off geometrically with nothing to go on', () => {
    expect(nextPollDelay(input({ nowMs: 0, pollAfterMs: undefined })).ms).toBe(40);
    expect(nextPollDelay(input({ nowMs: 60_000, startedAtMs: 0, pollAfterMs: undefined })).ms).toBe(5_000);
    const overdue = nextPollDelay(input({ nowMs: 3_000, first: { atMs: 1_000, progress: 40 }, latest: { atMs: 2_000, progress: 99 }, pollAfterMs: undefined }));
    expect(overdue.ms).toBe(20);
  });
});

describe('what a finished job teaches about the next ones', () => {
  it('learns the trend span, not the late moment it was noticed nor the first wave start lag', () => {
    // Sent at 0, started at 40 ms, 1 %/25 ms: ends at 2,540; noticed at 2,600.
    const learned = estimatedDuration(0, { atMs: 540, progress: 20 }, { atMs: 2_040, progress: 80 }, 2_600);
    expect(learned).toBeCloseTo(2_500, 0);
    // One late sample, no trend: (since · 100 / 99.5), capped by when it was seen finished.
    expect(estimatedDuration(0, undefined, { atMs: 2_488, progress: 99 }, 2_495)).toBeCloseTo(2_495, 0);
    expect(estimatedDuration(0, undefined, { atMs: 1_000, progress: 30 }, 2_600)).toBeUndefined();
    expect(estimatedDuration(0, undefined, undefined, 2_600)).toBeUndefined();
  });

  it('keeps a running median of the last 64 durations', () => {
    const stats = new DurationStats();
    expect(stats.typical()).toBeUndefined();
    for (const ms of [2_600, 2_500, 9_000]) stats.add(ms);
    expect(stats.typical()).toBe(2_600);
    for (let i = 0; i < 64; i++) stats.add(1_000);
    expect(stats.typical()).toBe(1_000);
  });
});
