import type { AssetVariant, CharacterName, ProjectPath, TargetKind, TargetName } from '../manifest/manifest.js';
import type { CharacterId, Fingerprint, JobId, JobStatus } from '../lock/lockfile.js';
import type { Plan } from '../plan/plan.js';

/**
 * Everything the executor (execute/apply.ts) has to say, as data. It emits
 * each event once through `RunApplyOptions.onEvent`; presentation is a
 * separate consumer (cli/progress/: TTY live view, plain CI lines, NDJSON;
 * watch's preview page). Events are plain JSON-serializable objects so the
 * NDJSON logger can print them verbatim. Times are ISO strings, durations ms.
 *
 * Discriminated by `type`; every consumer ends its switch in `unreachable()`,
 * so adding an event here without rendering it is a compile error.
 */
export type ExecEvent =
  | PlanReadyEvent
  | CharacterCreatedEvent
  | CharacterFailedEvent
  | JobIntentEvent
  | JobSubmittedEvent
  | JobProgressEvent
  | JobCompletedEvent
  | JobFailedEvent
  | JobSkippedEvent
  | JobReconciledEvent
  | RemoteClaimEvent
  | AssetRestoredEvent
  | TargetDoneEvent
  | RateLimitedEvent
  | WarningEvent
  | InterruptedEvent
  | RunFinishedEvent;

export type ExecEventType = ExecEvent['type'];

/**
 * The executor accepted the plan and is about to start. Carries the plan
 * itself so a consumer can draw every target (including the unchanged ones)
 * before any job moves.
 */
export interface PlanReadyEvent {
  readonly type: 'plan-ready';
  readonly at: string;
  readonly plan: Plan;
}

/**
 * A character was created from its video (or adopted from a reconciled
 * intent) and its `char_…` id is now in the lockfile. Targets that list it
 * start only after this event.
 */
export interface CharacterCreatedEvent {
  readonly type: 'character-created';
  readonly at: string;
  readonly name: CharacterName;
  readonly characterId: CharacterId;
  /** True when the id is one created earlier from a video with the same bytes (a reverted video): nothing was sent. */
  readonly reused?: boolean;
}

/**
 * Creating a character failed; every target that uses it is skipped (a
 * `job-skipped` follows for each).
 */
export interface CharacterFailedEvent {
  readonly type: 'character-failed';
  readonly at: string;
  readonly name: CharacterName;
  readonly code: string;
  readonly message: string;
}

/**
 * The intent to make a paid call was written to the lockfile, and the call is
 * about to go out. If the process dies between this event and
 * `job-submitted`, the next run reconciles the intent against `videos.list`
 * instead of paying again.
 */
export interface JobIntentEvent {
  readonly type: 'job-intent';
  readonly at: string;
  readonly name: TargetName;
  readonly kind: TargetKind;
  readonly fingerprint: Fingerprint;
}

/**
 * The API accepted a paid job and its id is saved in the lockfile. From here
 * on the target is never created again for these inputs; a re-run resumes it.
 * `resumed` is true when the job was created by an earlier run and this run
 * only picks up polling it.
 */
export interface JobSubmittedEvent {
  readonly type: 'job-submitted';
  readonly at: string;
  readonly name: TargetName;
  readonly jobId: JobId;
  readonly kind: TargetKind;
  readonly fingerprint: Fingerprint;
  readonly resumed: boolean;
}

/**
 * A poll saw the job queued or in progress. `progress` is the API's 0–100
 * estimate. Emitted on every poll, so consumers should redraw, not append.
 */
export interface JobProgressEvent {
  readonly type: 'job-progress';
  readonly at: string;
  readonly name: TargetName;
  readonly jobId: JobId;
  readonly status: JobStatus;
  readonly progress: number;
  /** Milliseconds since the job was submitted (or resumed). */
  readonly elapsedMs: number;
}

/**
 * The job reached `completed`; its assets are about to be downloaded.
 * Dependents (remix/extend/edit of this target) start now.
 */
export interface JobCompletedEvent {
  readonly type: 'job-completed';
  readonly at: string;
  readonly name: TargetName;
  readonly jobId: JobId;
  readonly fingerprint: Fingerprint;
  /** When the API will stop serving the assets, if it said. */
  readonly expiresAt: string | undefined;
}

/**
 * The target failed: the job ended in a status other than `completed`
 * (`code` is the API's `error.code`, or the status itself when there is no
 * error), the API refused the request, or downloading its assets failed for
 * good. Independent targets carry on; dependents get `job-skipped`.
 */
export interface JobFailedEvent {
  readonly type: 'job-failed';
  readonly at: string;
  readonly name: TargetName;
  /** Undefined when the request was refused before a job existed. */
  readonly jobId: JobId | undefined;
  readonly code: string;
  readonly message: string;
}

/**
 * The target was not attempted, e.g. because its source or one of its
 * characters failed, or because the run was interrupted first.
 */
export interface JobSkippedEvent {
  readonly type: 'job-skipped';
  readonly at: string;
  readonly name: TargetName;
  readonly reason: string;
}

/**
 * An intent recorded without a job id (a crash or a lost response) was
 * checked against `videos.list`. `jobId` is the adopted job when one matched;
 * undefined means none did and the target will be created anew.
 */
export interface JobReconciledEvent {
  readonly type: 'job-reconciled';
  readonly at: string;
  readonly name: TargetName;
  readonly jobId: JobId | undefined;
  /**
   * Where the unanswered call came from: an intent left by an earlier run
   * that stopped, a call of this run whose response was lost (a dropped
   * connection, a 5xx, a timeout), or one the API answered without naming
   * the job it made (never sent again: each send could pay).
   */
  readonly after: 'interrupted-run' | 'lost-response' | 'answer-without-id';
}

/**
 * The shared lock (`remote:`) on this target's way to a paid job. Another
 * runner (`holder`: its host and pid) claimed these inputs first:
 *
 * - `waiting`: it is making the paid call; this run waits for the job id
 *   instead of paying too;
 * - `adopted`: its job `jobId` is this target's now (polled and downloaded
 *   like a resumed job); nothing was paid here;
 * - `stale`: its claim has no job id and its runner is gone (`holder-dead`,
 *   on this machine) or the intent window has passed (`expired`):
 *   `videos.list` is checked for its job before anything is created.
 */
export type RemoteClaimEvent =
  | { readonly type: 'remote-claim'; readonly at: string; readonly name: TargetName; readonly state: 'waiting'; readonly holder: string }
  | { readonly type: 'remote-claim'; readonly at: string; readonly name: TargetName; readonly state: 'adopted'; readonly holder: string; readonly jobId: JobId }
  | { readonly type: 'remote-claim'; readonly at: string; readonly name: TargetName; readonly state: 'stale'; readonly holder: string; readonly why: 'holder-dead' | 'expired' };

/**
 * One output file is in place, verified and recorded in the lockfile, copied
 * from the local cache (no API call) or downloaded from the API.
 */
export interface AssetRestoredEvent {
  readonly type: 'asset-restored';
  readonly at: string;
  readonly name: TargetName;
  readonly variant: AssetVariant;
  readonly path: ProjectPath;
  readonly bytes: number;
  readonly from: 'cache' | 'remote';
}

/**
 * A target finished successfully in this run. `outcome` says how:
 * `created` (a new paid job), `resumed` (a job from an earlier run),
 * `fetched` (outputs restored without a new job), `unchanged` (nothing to do).
 */
export interface TargetDoneEvent {
  readonly type: 'target-done';
  readonly at: string;
  readonly name: TargetName;
  readonly outcome: 'created' | 'resumed' | 'fetched' | 'unchanged';
  readonly jobId: JobId | undefined;
}

/**
 * The API answered 429. Every worker waits on one shared gate until
 * `retryAfterMs` has passed, so a rate limit slows the run instead of making
 * it hammer the API.
 */
export interface RateLimitedEvent {
  readonly type: 'rate-limited';
  readonly at: string;
  readonly retryAfterMs: number;
}

/** Something the user should know that does not fail the run. */
export interface WarningEvent {
  readonly type: 'warning';
  readonly at: string;
  readonly message: string;
  readonly name?: TargetName;
}

/**
 * The run was asked to stop (Ctrl-C / abort signal). No new jobs start; every
 * job id already created is in the lockfile, and `vidbuild apply` resumes.
 */
export interface InterruptedEvent {
  readonly type: 'interrupted';
  readonly at: string;
  /** Targets whose jobs were created but not finished; the next apply resumes them. */
  readonly inFlight: readonly TargetName[];
  /**
   * Targets whose jobs completed (paid for) but whose outputs were not all
   * downloaded when the run stopped: the next apply downloads them, but only
   * until the API's copy expires (about an hour), so the user must be told.
   */
  readonly notDownloaded: readonly TargetName[];
  /** The lockfile's name as the user knows it (`videos.lock`, `ads.lock`…). */
  readonly lockName: string;
}

/** Totals for the final summary line. */
export interface RunSummary {
  readonly created: number;
  readonly resumed: number;
  /** Outputs restored (from cache or remote) without a new job. */
  readonly fetched: number;
  readonly unchanged: number;
  readonly failed: number;
  readonly skipped: number;
  /** Jobs created (or resumed) but still running when the run was interrupted; the next apply resumes them. */
  readonly inFlight: number;
  /** Jobs completed but not (fully) downloaded when the run was interrupted; the next apply downloads them. */
  readonly notDownloaded: number;
  /**
   * Estimated USD of the paid jobs actually submitted in this run, at the
   * API prices of the price table (never a bill: the API reports none).
   */
  readonly cost: number;
  /** Paid jobs submitted in this run whose model/size has no known price: not in `cost`, and not free. */
  readonly unpriced: number;
  /**
   * The backend bills nothing (the emulator): `cost` is what the same jobs
   * would cost at API prices, and nothing was charged.
   */
  readonly free: boolean;
  readonly elapsedMs: number;
  readonly interrupted: boolean;
}

/** The run ended (normally, with failures, or interrupted). Always the last event. */
export interface RunFinishedEvent {
  readonly type: 'run-finished';
  readonly at: string;
  readonly summary: RunSummary;
}
