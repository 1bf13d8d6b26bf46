/**
 * A job's life is a pure function of its timestamps, so it survives a restart
 * of the emulator and needs no timers:
 *
 *   createdAt ── queued ── startAt ── in_progress (progress rises) ── finishAt ── outcome
 *
 * `startAt` is fixed when the job is created, by placing it in a FIFO queue
 * with `maxRunning` slots behind the jobs already scheduled.
 */

/** How a job ends. `other` is a status outside the SDK's union (e.g. `expired`). */
export type Outcome =
  | { readonly kind: 'completed' }
  | { readonly kind: 'failed'; readonly code: string; readonly message: string }
  | { readonly kind: 'other'; readonly status: string };

export interface Schedule {
  readonly createdAtMs: number;
  readonly startAtMs: number;
  readonly finishAtMs: number;
}

export type Phase =
  | { readonly kind: 'queued' }
  | { readonly kind: 'in_progress'; readonly progress: number }
  | { readonly kind: 'ended' };

export function phaseAt(s: Schedule, nowMs: number): Phase {
  if (nowMs < s.startAtMs) return { kind: 'queued' };
  if (nowMs < s.finishAtMs) {
    const span = s.finishAtMs - s.startAtMs;
    return { kind: 'in_progress', progress: Math.min(99, Math.floor((100 * (nowMs - s.startAtMs)) / span)) };
  }
  return { kind: 'ended' };
}

/**
 * When a job created at `nowMs` starts, given the schedules of the jobs
 * before it: after the last of them has started (FIFO), and once fewer than
 * `maxRunning` of them are still running.
 */
export function scheduleNext(
  previous: readonly Schedule[],
  nowMs: number,
  durationMs: number,
  maxRunning: number,
): Schedule {
  let start = nowMs;
  for (const p of previous) start = Math.max(start, p.startAtMs);
  if (Number.isFinite(maxRunning) && maxRunning > 0) {
    const busyUntil = previous
      .map((p) => p.finishAtMs)
      .filter((f) => f > start)
      .sort((a, b) => b - a);
    const freed = busyUntil[maxRunning - 1];
    if (freed !== undefined) start = freed;
  }
  return { createdAtMs: nowMs, startAtMs: start, finishAtMs: start + durationMs };
}
