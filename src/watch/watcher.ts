import { unreachable } from '../core/unreachable.js';

/**
 * The watch loop as an explicit state machine (after wireit's src/watcher.ts).
 * It only schedules: what one iteration does (load, plan, apply) is the
 * `runCycle` callback (watch/watch-session.ts), and where file events come
 * from is the caller's business (watch/file-watcher.ts), so every transition
 * can be tested with a fake cycle and no file system.
 *
 * ```
 *                  ┌─────────┐
 *                  │ initial │
 *                  └────┬────┘
 *                     start()
 *                       │
 *                  ┌────▼────┐  CHANGE (supersede the   ┌────────┐
 *      ╭──────────►│ running ├── running cycle once) ──►│ queued ├──╮ CHANGE
 *      │           └────┬────┘                          └───┬──▲─┘◄─╯ (ignored)
 *      │             CYCLE_DONE                         CYCLE_DONE
 *      │                │                                   │
 *  DEBOUNCED       ┌────▼─────┐                      ┌──────▼─────┐
 *      │           │ watching ├────── CHANGE ───────►│ debouncing ├──╮ CHANGE
 *      │           └──────────┘                      └──────┬──▲──┘◄─╯ (restart timer)
 *      ╰────────────────────────────────────────────────────╯
 *
 *  ABORT from any state → aborted (a running cycle is told to stop and is
 *  awaited; `finished` resolves once nothing runs).
 * ```
 *
 * A burst of saves therefore becomes one cycle: each CHANGE restarts the
 * debounce timer, and changes during a cycle collapse into one follow-up.
 */
export type WatcherState = 'initial' | 'running' | 'watching' | 'debouncing' | 'queued' | 'aborted';

/** What a cycle is asked to do. */
export interface CycleRequest {
  /** 1 for the initial apply, then 2, 3, … */
  readonly number: number;
  /** Absolute paths whose change led to this cycle (empty for the first one). */
  readonly changed: readonly string[];
  /** The user asked to resubmit targets that already failed with these inputs (`r`). */
  readonly retryFailed: boolean;
  /**
   * Fires when a newer change arrives while this cycle runs: stop starting
   * new work and return soon; a follow-up cycle is already queued.
   */
  readonly superseded: AbortSignal;
  /** Fires when the session ends (`q`, Ctrl-C): stop, save, return. */
  readonly quit: AbortSignal;
}

export interface WatcherOptions {
  /** Quiet time after the last change before a cycle starts. */
  readonly debounceMs: number;
  /** One iteration; expected failures are reported by the callback itself, a throw is a bug. */
  readonly runCycle: (request: CycleRequest) => Promise<void>;
  /** Observes every transition (for tests and debugging). */
  readonly onTransition?: (from: WatcherState, to: WatcherState) => void;
}

function unexpectedState(state: WatcherState, event: string): Error {
  return new Error(`watcher: unexpected ${event} in state ${state}`);
}

export class Watcher {
  #state: WatcherState = 'initial';
  readonly #options: WatcherOptions;
  #timer: NodeJS.Timeout | undefined;
  #cycles = 0;
  /** Paths changed since the last cycle started. */
  #pending = new Set<string>();
  #retryRequested = false;
  #superseded: AbortController | undefined;
  readonly #quit = new AbortController();
  readonly #finished: Promise<void>;
  #resolveFinished!: () => void;
  #rejectFinished!: (e: unknown) => void;
  #failure: unknown;

  constructor(options: WatcherOptions) {
    this.#options = options;
    this.#finished = new Promise<void>((resolve, reject) => {
      this.#resolveFinished = resolve;
      this.#rejectFinished = reject;
    });
  }

  get state(): WatcherState {
    return this.#state;
  }

  /** Runs the first cycle; resolves once aborted and idle, rejects if a cycle threw (a bug). */
  start(): Promise<void> {
    switch (this.#state) {
      case 'initial':
        this.#startCycle();
        return this.#finished;
      case 'running':
      case 'watching':
      case 'debouncing':
      case 'queued':
      case 'aborted':
        throw unexpectedState(this.#state, 'start');
      default:
        return unreachable(this.#state, 'watcher state');
    }
  }

  /** A watched file was added, changed or removed. */
  fileChanged(path: string): void {
    switch (this.#state) {
      case 'initial':
        // Events before the first cycle are covered by it.
        return;
      case 'watching':
        this.#pending.add(path);
        this.#to('debouncing');
        this.#startTimer();
        return;
      case 'debouncing':
        this.#pending.add(path);
        this.#startTimer();
        return;
      case 'running':
        this.#pending.add(path);
        this.#to('queued');
        this.#superseded?.abort();
        return;
      case 'queued':
        this.#pending.add(path);
        return;
      case 'aborted':
        return;
      default:
        unreachable(this.#state, 'watcher state');
    }
  }

  /** The user asked to resubmit failed targets (`r`): a cycle like a change, flagged. */
  retryFailed(): void {
    if (this.#state === 'aborted') return;
    this.#retryRequested = true;
    this.fileChanged('');
  }

  /** End the session: no new cycles; a running one is told to quit and awaited. */
  abort(): void {
    switch (this.#state) {
      case 'initial':
      case 'watching':
      case 'debouncing':
        this.#clearTimer();
        this.#to('aborted');
        this.#quit.abort();
        this.#settle();
        return;
      case 'running':
      case 'queued':
        this.#to('aborted');
        this.#quit.abort();
        // #onCycleDone settles once the cycle returns.
        return;
      case 'aborted':
        return;
      default:
        unreachable(this.#state, 'watcher state');
    }
  }

  #to(next: WatcherState): void {
    const from = this.#state;
    this.#state = next;
    this.#options.onTransition?.(from, next);
  }

  #startTimer(): void {
    this.#clearTimer();
    this.#timer = setTimeout(() => this.#onDebounced(), this.#options.debounceMs);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #onDebounced(): void {
    this.#timer = undefined;
    switch (this.#state) {
      case 'debouncing':
        this.#startCycle();
        return;
      case 'initial':
      case 'running':
      case 'watching':
      case 'queued':
      case 'aborted':
        throw unexpectedState(this.#state, 'debounce timeout');
      default:
        unreachable(this.#state, 'watcher state');
    }
  }

  #startCycle(): void {
    switch (this.#state) {
      case 'initial':
      case 'debouncing': {
        this.#to('running');
        const superseded = new AbortController();
        this.#superseded = superseded;
        const request: CycleRequest = {
          number: ++this.#cycles,
          changed: [...this.#pending].filter((p) => p !== ''),
          retryFailed: this.#retryRequested,
          superseded: superseded.signal,
          quit: this.#quit.signal,
        };
        this.#pending = new Set();
        this.#retryRequested = false;
        this.#options.runCycle(request).then(
          () => this.#onCycleDone(),
          (e: unknown) => {
            // A throwing cycle is a bug: stop watching and surface it.
            this.#failure ??= e;
            this.abort();
            this.#onCycleDone();
          },
        );
        return;
      }
      case 'running':
      case 'watching':
      case 'queued':
      case 'aborted':
        throw unexpectedState(this.#state, 'cycle start');
      default:
        unreachable(this.#state, 'watcher state');
    }
  }

  #onCycleDone(): void {
    this.#superseded = undefined;
    switch (this.#state) {
      case 'running':
        this.#to('watching');
        return;
      case 'queued':
        // Debounce again from now: saves that kept coming during the cycle
        // settle into one follow-up, as in wireit.
        this.#to('debouncing');
        this.#startTimer();
        return;
      case 'aborted':
        this.#settle();
        return;
      case 'initial':
      case 'watching':
      case 'debouncing':
        throw unexpectedState(this.#state, 'cycle done');
      default:
        unreachable(this.#state, 'watcher state');
    }
  }

  #settle(): void {
    if (this.#failure !== undefined) this.#rejectFinished(this.#failure);
    else this.#resolveFinished();
  }
}
