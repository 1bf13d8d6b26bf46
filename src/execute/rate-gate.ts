/**
 * One back-off shared by every request of a run. When any response is a 429,
 * the gate closes until the server's `retry-after` has passed, and every
 * request (polls, downloads, creates, the SDK's own retries) waits on it
 * before going out: a rate limit slows the whole run down once instead of
 * each worker hammering the API on its own schedule.
 *
 * It wraps `fetch` (see `gatedFetch`), so it sees every HTTP attempt the SDK
 * makes, including the retries it does by itself.
 */
export class RateGate {
  private openAt = 0;
  private readonly listeners = new Set<(retryAfterMs: number) => void>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** Resolves when the gate is open (immediately when it already is). */
  async wait(signal?: AbortSignal | null): Promise<void> {
    for (;;) {
      const ms = this.openAt - this.clock();
      if (ms <= 0) return;
      await sleep(ms, signal);
    }
  }

  /** Close the gate for `ms` from now (never shortens an existing back-off). */
  close(ms: number): void {
    const until = this.clock() + ms;
    if (until <= this.openAt) return;
    this.openAt = until;
    for (const l of this.listeners) l(ms);
  }

  onRateLimited(listener: (retryAfterMs: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Milliseconds a 429 asks us to wait: `retry-after-ms`, then `retry-after` (seconds or a date). */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number {
  const ms = Number(headers.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return Math.min(ms, 60_000);
  const raw = headers.get('retry-after');
  if (raw !== null) {
    const secs = Number(raw);
    if (Number.isFinite(secs) && secs >= 0) return Math.min(Math.max(secs * 1000, 100), 60_000);
    const date = Date.parse(raw);
    if (Number.isFinite(date)) return Math.min(Math.max(date - now, 100), 60_000);
  }
  return 1_000;
}

/** A `fetch` that waits on the gate before each request and closes it on a 429. */
export function gatedFetch(gate: RateGate, inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    await gate.wait(init?.signal);
    const res = await inner(input, init);
    if (res.status === 429) gate.close(retryAfterMs(res.headers));
    return res;
  };
}

/** setTimeout as a promise that rejects with the signal's reason on abort. */
export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
