/**
 * When to poll a job next. Jobs take from seconds (the emulator) to minutes
 * (the real API), so a fixed interval is either too chatty or too late. We
 * aim each poll at the moment the job is expected to finish:
 *
 * - before any progress is seen: at the typical duration of jobs already
 *   finished in this run (most jobs of a run look alike), else a short first
 *   look that grows with elapsed time;
 * - once progress moves: remaining = (100 - progress) / rate, the rate
 *   measured between the first and latest progress samples;
 * - a provider's `openai-poll-after-ms` header is a floor;
 * - always clamped to [minMs, maxMs]: never a tight loop, never blind for long.
 */
export interface PollSample {
  readonly atMs: number;
  readonly progress: number;
}

export interface PollInput {
  /** When the job was submitted (or picked up on resume). */
  readonly startedAtMs: number;
  readonly nowMs: number;
  /** First sample with progress > 0, and the latest one. */
  readonly first: PollSample | undefined;
  readonly latest: PollSample | undefined;
  /** Median submit→completed time of jobs seen finishing in this run, if any. */
  readonly typicalMs: number | undefined;
  readonly pollAfterMs: number | undefined;
  readonly minMs: number;
  readonly maxMs: number;
}

/** Land slightly after the expected end rather than slightly before it. */
const LATE_FACTOR = 1.01;
const LATE_MS = 20;

export function nextPollDelay(input: PollInput): number {
  const elapsed = Math.max(0, input.nowMs - input.startedAtMs);
  let delay: number;
  const { first, latest } = input;
  if (first !== undefined && latest !== undefined && latest.atMs > first.atMs && latest.progress > first.progress) {
    const rate = (latest.progress - first.progress) / (latest.atMs - first.atMs);
    const remaining = (100 - latest.progress) / rate - (input.nowMs - latest.atMs);
    delay = remaining * LATE_FACTOR + LATE_MS;
  } else if (latest !== undefined && latest.progress > 0 && latest.progress < 100) {
    // One sample: assume progress has moved linearly since submission.
    const since = Math.max(1, latest.atMs - input.startedAtMs);
    const remaining = (since * (100 - latest.progress)) / latest.progress - (input.nowMs - latest.atMs);
    delay = remaining * LATE_FACTOR + LATE_MS;
  } else if (input.typicalMs !== undefined && elapsed < input.typicalMs) {
    delay = (input.typicalMs - elapsed) * LATE_FACTOR + LATE_MS;
  } else {
    // Nothing to go on (queued, or slower than usual): look again after a
    // fraction of the time already spent, so waits grow geometrically.
    delay = Math.max(input.minMs * 2, elapsed / 3);
  }
  if (input.pollAfterMs !== undefined) delay = Math.max(delay, input.pollAfterMs);
  return Math.round(Math.min(input.maxMs, Math.max(input.minMs, delay)));
}

/** Running median of job durations (bounded memory). */
export class DurationStats {
  private readonly samples: number[] = [];
  add(ms: number): void {
    this.samples.push(ms);
    if (this.samples.length > 64) this.samples.shift();
  }
  typical(): number | undefined {
    if (this.samples.length === 0) return undefined;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }
}
