/**
 * Requests-per-minute limit over a sliding 60 s window, like the API's RPM
 * tier limits: above it the server answers 429 with the time until a slot
 * frees up.
 */
export class RateWindow {
  readonly #rpm: number;
  readonly #times: number[] = [];

  constructor(rpm: number) {
    this.#rpm = rpm;
  }

  /** Records a request at `nowMs`, or says how long to wait when the window is full. */
  take(nowMs: number): { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number } {
    while (this.#times.length > 0 && (this.#times[0] ?? 0) <= nowMs - 60_000) this.#times.shift();
    if (this.#times.length >= this.#rpm) {
      return { ok: false, retryAfterMs: Math.max(1, (this.#times[0] ?? nowMs) + 60_000 - nowMs) };
    }
    this.#times.push(nowMs);
    return { ok: true };
  }
}
