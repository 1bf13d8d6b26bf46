import type { TargetName } from '../manifest/manifest.js';
import { runApply, type ApplyResult } from './apply.js';
import { createdByLostIntents, obsoleteInFlight, obsoleteOnRecord, replacedInFlight } from './earlier-run-jobs.js';
import { ObsoleteJobs, type ObsoleteJobEvent } from './obsolete-jobs.js';
import type { RunApplyOptions } from './run-context.js';
import { runCache, type RemoteTransfer } from './run-cache.js';

/**
 * What a run says beside its typed events: about jobs an earlier run left
 * in flight, which this plan no longer tracks.
 * - `warning`: a job that may exist, paid for, and will not be kept;
 * - `obsolete-job`: a replaced in-flight job being finished into the cache;
 * - `obsolete-wait`: the run is done, and it now waits for that many of them.
 */
export type RunNotice =
  | { readonly type: 'warning'; readonly name: TargetName; readonly message: string }
  | ObsoleteJobEvent
  | { readonly type: 'obsolete-wait'; readonly pending: number };

export interface ApplyPlanOptions extends Omit<RunApplyOptions, 'cache'> {
  readonly onNotice?: (notice: RunNotice) => void;
  /**
   * A finisher the caller owns and settles (watch keeps one for its whole
   * session). Without one, applyPlan makes its own for this run and waits
   * for it before returning (Ctrl-C, via `signal`, abandons it).
   */
  readonly obsoleteJobs?: ObsoleteJobs;
}

export interface ApplyPlanResult extends ApplyResult {
  /** What the run moved through the team's remote (`remote`), every push finished; absent without one. */
  readonly transfer?: RemoteTransfer;
}

const DEFAULT_POLL_MIN_MS = 2_000;
const DEFAULT_POLL_MAX_MS = 15_000;

/**
 * The one entry into the core for executing a plan, used alike by `apply`,
 * `pull`, `watch` and the library: the caller has opened the project (run
 * lock held), planned, passed the rails and made the backend; this runs it.
 *
 * Before the executor starts, the jobs an earlier, interrupted run left in
 * flight are sorted out: those the plan replaces (a prompt edited after
 * Ctrl-C) and those an unsaved intent may have made are paid for and about
 * to be forgotten by the lockfile, so they are finished into the cache
 * beside the run (reverting the edit then restores them for free).
 */
export async function applyPlan(o: ApplyPlanOptions): Promise<ApplyPlanResult> {
  const notice = o.onNotice ?? ((): void => undefined);
  // The project's cache, with the team's remote behind it: restores look there, what is made is pushed.
  const cache = runCache(o.manifest.projectDir, o.remote, (message) => o.onEvent?.({ type: 'warning', at: new Date().toISOString(), message }));
  const earlier = [
    ...obsoleteInFlight(o.plan, o.lock),
    ...(await obsoleteOnRecord(o.manifest.projectDir, o.plan, o.lock)),
    ...(await createdByLostIntents(o.plan, o.lock, o.client, (name, message) => notice({ type: 'warning', name, message }))),
  ];
  const own =
    o.obsoleteJobs === undefined && earlier.length > 0
      ? new ObsoleteJobs({
          client: o.client,
          projectDir: o.manifest.projectDir,
          cache,
          pollMinMs: o.pollMinMs ?? DEFAULT_POLL_MIN_MS,
          pollMaxMs: o.pollMaxMs ?? DEFAULT_POLL_MAX_MS,
          onEvent: notice,
        })
      : undefined;
  const finisher = o.obsoleteJobs ?? own;
  // On record before the executor's first write can make the lock forget them.
  await Promise.all(earlier.map((job) => finisher?.finish(job)));
  for (const s of replacedInFlight(o.plan)) {
    const job = s.locked?.job;
    if (job?.state !== 'job') continue;
    notice({ type: 'warning', name: s.name, message: `job ${job.jobId} of an earlier run is still ${job.status}; --replace starts another, and that one (paid for) is no longer tracked` });
  }
  try {
    const result = await runApply({ ...o, cache });
    const stopped = o.signal?.aborted === true;
    if (own !== undefined && own.pending > 0 && !stopped) notice({ type: 'obsolete-wait', pending: own.pending });
    if (own !== undefined) await own.settle(o.signal ?? new AbortController().signal);
    const transfer = await cache.drain();
    return transfer === undefined ? result : { ...result, transfer };
  } finally {
    own?.abandon();
  }
}
