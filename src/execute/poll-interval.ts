/**
 * When to poll a job next. Jobs take from seconds (the emulator) to minutes
 * (the real API), so a fixed interval is either too chatty or too late. We
 * aim each poll at the moment the job is expected to finish, because the
 * poll that sees a job completed is what frees its slot for the next paid
 * job: every millisecond between the end and that poll is lost makespan.
 *
 * The expected end, best guess first:
 * - progress moving: latest + (100 - progress) / rate, the rate measured
 *   between the first and latest progress samples;
 * - the typical duration of jobs already finished in this run (most jobs of
 *   a run look alike), while the job is younger than that;
 * - one progress sample: progress assumed linear since the job was sent;
 *   early on, that guess is rough (the job may have started well after it
 *   was sent), so the poll goes halfway to it, to measure a rate for the
 *   one after;
 * - nothing to go on (queued, or slower than usual): a fraction of the time
 *   already spent, so waits grow geometrically.
 *
 * A provider's `openai-poll-after-ms` is a floor, except near the end: when
 * the expected end is closer than the floor, a poll may go at it, and when
 * that one came a moment early, one more at what its progress says is left
 * (the one after those honours the floor again), so at most two requests
 * in each floor interval are ours to time. Always clamped to [minMs, maxMs]:
 * never a tight loop, never blind for long.
 */
export interface PollSample {
  readonly atMs: number;
  readonly progress: number;
}

export interface PollInput {
  /** When the job was sent (or picked up on resume). */
  readonly startedAtMs: number;
  readonly nowMs: number;
  /** First sample with progress > 0, and the latest one. */
  readonly first: PollSample | undefined;
  readonly latest: PollSample | undefined;
  /** Median sent→end time of jobs seen finishing in this run, if any. */
  readonly typicalMs: number | undefined;
  readonly pollAfterMs: number | undefined;
  /** How many of the waits just before this one went under `pollAfterMs`, in a row. */
  readonly tightInRow: number;
  readonly minMs: number;
  readonly maxMs: number;
}

export interface PollDelay {
  readonly ms: number;
  /** This wait goes under the provider's `openai-poll-after-ms`. */
  readonly tight: boolean;
}

/** Looks under the provider's floor in a row, near the end (see above). */
const MAX_TIGHT_IN_ROW = 2;

/**
 * Land slightly after the expected end rather than slightly before it (an
 * early look costs a request and a re-poll at least `minMs` later). The
 * request's own way to the server already lands it a little after its aim,
 * so the margin is small: it was 4 ms + 0.2 % (9 ms at 2.5 s), which the
 * emulator bench showed as every job seen completed ~9 ms after it was,
 * in each of the run's waves.
 */
const LATE_FRACTION = 0.0005;
const LATE_MS = 1;

/**
 * Progress is reported in whole percent, rounded down (the API's integer
 * `progress`; the emulator floors it): a job that says 42 is somewhere in
 * [42, 43). Taking the report as the truth puts every expected end up to a
 * percent late (25 ms of a 2.5 s job) and, learned into the typical
 * duration, makes every later job of the run poll that much late; the
 * middle of the step is the unbiased guess.
 */
function truly(reported: number): number {
  return Math.min(100, reported + 0.5);
}
/**
 * With one progress sample, look again halfway to the rough end: early
 * enough to measure a rate before the job ends, whatever its start lag.
 */
const SCOUT_FRACTION = 0.5;
/** Below this, a single sample says little about when the job started: its end is a rough guess, not learned from. */
const ONE_SAMPLE_TRUSTED_AT = 50;

/** When the job is expected to end (ms since the epoch), and whether that guess is rough. */
export function expectedEnd(input: PollInput): { readonly atMs: number; readonly rough: boolean } | undefined {
  const { first, latest, startedAtMs } = input;
  if (first !== undefined && latest !== undefined && latest.atMs > first.atMs && latest.progress > first.progress) {
    const rate = (latest.progress - first.progress) / (latest.atMs - first.atMs);
    return { atMs: latest.atMs + (100 - truly(latest.progress)) / rate, rough: false };
  }
  if (input.typicalMs !== undefined && input.nowMs - startedAtMs < input.typicalMs) {
    return { atMs: startedAtMs + input.typicalMs, rough: false };
  }
  if (latest !== undefined && latest.progress > 0 && latest.progress < 100) {
    const since = Math.max(1, latest.atMs - startedAtMs);
    // Far along, a late start shifts the guess by little of what is left.
    return { atMs: startedAtMs + (since * 100) / truly(latest.progress), rough: latest.progress < ONE_SAMPLE_TRUSTED_AT };
  }
  return undefined;
}

export function nextPollDelay(input: PollInput): PollDelay {
  const elapsed = Math.max(0, input.nowMs - input.startedAtMs);
  const end = expectedEnd(input);
  let delay: number;
  if (end === undefined) delay = Math.max(input.minMs * 2, elapsed / 3);
  else if (end.rough) delay = (end.atMs - input.nowMs) * SCOUT_FRACTION;
  else delay = end.atMs - input.nowMs + (end.atMs - input.startedAtMs) * LATE_FRACTION + LATE_MS;
  let tight = false;
  if (input.pollAfterMs !== undefined && delay < input.pollAfterMs) {
    // Near the expected end, at most twice in a row: waiting out the floor
    // would leave a finished job (and its slot) idle for up to the whole floor.
    if (end !== undefined && !end.rough && input.tightInRow < MAX_TIGHT_IN_ROW) tight = true;
    else delay = input.pollAfterMs;
  }
  return { ms: Math.round(Math.min(input.maxMs, Math.max(input.minMs, delay))), tight };
}

/**
 * How long jobs like this one take, learned when it completes: the span of
 * its in-progress trend (100 / rate), or, when that is longer, sent → end
 * of the trend. Learned from when it really ended, not from when we
 * noticed: learning the noticed time would make every wave poll a little
 * later than the last; and not from the send time alone, which would teach
 * every later job the first wave's start lag (new connections, a busy
 * server). A queued start makes the next jobs poll once early, which is
 * the cheaper mistake. Undefined without a trend.
 */
export function estimatedDuration(sentAtMs: number, first: PollSample | undefined, latest: PollSample | undefined, observedEndMs: number): number | undefined {
  if (latest === undefined) return undefined;
  if (first !== undefined && latest.atMs > first.atMs && latest.progress > first.progress) {
    const rate = (latest.progress - first.progress) / (latest.atMs - first.atMs);
    const end = Math.min(observedEndMs, latest.atMs + (100 - truly(latest.progress)) / rate);
    return Math.max(0, Math.min(end - sentAtMs, 100 / rate));
  }
  if (latest.progress < ONE_SAMPLE_TRUSTED_AT) return undefined;
  const end = sentAtMs + ((latest.atMs - sentAtMs) * 100) / truly(latest.progress);
  return Math.max(0, Math.min(end, observedEndMs) - sentAtMs);
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
