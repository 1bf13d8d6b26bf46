import type { Diagnostic } from '../core/diagnostic.js';
import type { ExecEvent } from '../execute/events.js';
import type { ObsoleteJobEvent } from '../execute/obsolete-jobs.js';

export type { ObsoleteJobEvent };
import type { TargetName } from '../manifest/manifest.js';
import type { Action } from '../plan/plan.js';

/**
 * What a watch session has to say, as data (like ExecEvent for apply): the
 * CLI renders it as lines or NDJSON, and core watch modules never print.
 * Discriminated by `type`; consumers end their switch in `unreachable()`.
 */
export type WatchEvent =
  | CycleStartEvent
  | ManifestInvalidEvent
  | ReplanEvent
  | ExecWatchEvent
  | SupersededEvent
  | ObsoleteJobEvent
  | WatchWarningEvent
  | IdleEvent;

/** A cycle begins, because of these files (display paths; empty for the first run or a retry). */
export interface CycleStartEvent {
  readonly type: 'cycle-start';
  readonly cycle: number;
  readonly changed: readonly string[];
  readonly retryFailed: boolean;
}

/**
 * The manifest (or the lockfile) cannot be used as it is now. Nothing runs;
 * the last good outputs and lockfile stay as they are, and watching goes on.
 */
export interface ManifestInvalidEvent {
  readonly type: 'manifest-invalid';
  readonly diagnostics: readonly Diagnostic[];
  /**
   * The manifest has not been valid once yet this session (watch was started
   * on a half-written file): nothing is applied until it is.
   */
  readonly beforeFirstApply: boolean;
}

/** One step of a re-plan that does something (unchanged targets are not listed). */
export interface ReplanStep {
  readonly name: TargetName;
  readonly action: Exclude<Action, 'unchanged'>;
  readonly reason: string;
  readonly cost: number;
}

/**
 * The plan for this cycle, reduced to what changed. `held` are paid steps
 * the session will not run now (failed with these inputs, over budget), with why.
 */
export interface ReplanEvent {
  readonly type: 'replan';
  readonly cycle: number;
  readonly steps: readonly ReplanStep[];
  readonly held: readonly { readonly name: TargetName; readonly reason: string }[];
  /** Targets still held for the same reason as at the previous re-plan (not listed again). */
  readonly stillHeld: number;
  /** Estimated USD of the steps that will run. */
  readonly cost: number;
  /** Steps that will run with no known price (`--allow-unpriced`, or no budget): not in `cost`. */
  readonly unpriced: number;
  /** Session total so far, before this cycle. */
  readonly spent: number;
  /** The backend bills nothing (the emulator): costs are estimates at API prices. */
  readonly free: boolean;
}

/** An executor event of this cycle's apply. */
export interface ExecWatchEvent {
  readonly type: 'exec';
  readonly event: ExecEvent;
}

/** A newer save arrived mid-run: no new jobs start; a re-plan follows. */
export interface SupersededEvent {
  readonly type: 'superseded';
}


export interface WatchWarningEvent {
  readonly type: 'warning';
  readonly diagnostic: Diagnostic;
}

/** The cycle is over; the session waits for changes. */
export interface IdleEvent {
  readonly type: 'idle';
  readonly cycle: number;
  /** How many files are watched (manifest + referenced). */
  readonly files: number;
  readonly spent: number;
}
