import type { ClaimRecord } from './claim-record.js';

/**
 * Whether another runner's claim still protects a paid call, as the local
 * intents are judged (execute/reconcile.ts):
 *
 * - `has-job`: the job id is in it: it is a record, never stale; adopt the job;
 * - `live`: its runner may still be making the call: wait;
 * - `holder-dead`: its runner ran on this machine (same boot and pid
 *   namespace) and its pid is gone: whatever call it made is over, so the
 *   job it may have made can be looked for now, as the run lock's takeover does;
 * - `expired`: older than the intent window: even a runner elsewhere that is
 *   still alive can no longer be creating a job for it.
 *
 * A stale claim (the last two) is never retaken blindly: the caller first
 * looks for its job in `videos.list`.
 */
export type ClaimLiveness = 'has-job' | 'live' | 'holder-dead' | 'expired';

export interface LivenessFacts {
  readonly nowMs: number;
  readonly hostId: string;
  /** The intent window plus clock slack, ms. */
  readonly windowMs: number;
  readonly pidAlive: (pid: number) => boolean;
}

export function claimLiveness(claim: ClaimRecord, facts: LivenessFacts): ClaimLiveness {
  if (claim.jobId !== undefined) return 'has-job';
  if (facts.nowMs - Date.parse(claim.createdAt) > facts.windowMs) return 'expired';
  if (claim.hostId === facts.hostId && !facts.pidAlive(claim.pid)) return 'holder-dead';
  return 'live';
}
