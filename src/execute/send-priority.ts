/**
 * Paid calls go out before downloads. When a round of jobs ends, the same
 * few milliseconds see each slot's next create and every finished job's
 * downloads (stream, hash, write, fsync, cache, lock); all on one event
 * loop, a create sent then waits behind that work, and the bench measured
 * a third of creates reaching the API 8–35 ms after they were sent, every
 * one of them during such a burst. A job at the API is what the run pays
 * for in time; a download has the rest of the round to happen in. So a
 * download waits, before it starts, until no paid call is on its way, for
 * at most `MAX_YIELD_MS`: a steady stream of sends (many slots, a closed
 * rate gate) delays downloads by that much, never starves them.
 */
const MAX_YIELD_MS = 250;

export class SendPriority {
  #inFlight = 0;
  #waiters = new Set<() => void>();

  /** A paid call is on its way until the returned function is called (once is enough). */
  begin(): () => void {
    this.#inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.#inFlight === 0) {
        for (const wake of this.#waiters) wake();
        this.#waiters.clear();
      }
    };
  }

  /** Resolves when no paid call is on its way, or after `maxMs`. */
  async yieldToSends(maxMs: number = MAX_YIELD_MS): Promise<void> {
    // One turn of the event loop first: a slot freed in this same turn has
    // its next job's call about to begin (it is a few promise steps behind).
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.#inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, maxMs);
      this.#waiters.add(wake);
    });
  }
}
