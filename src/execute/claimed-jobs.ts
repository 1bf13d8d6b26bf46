import type { JobId, LockedTarget, Lockfile } from '../lock/lockfile.js';

/**
 * Jobs reconciliation must never adopt for an intent: every job an entry of
 * the lock holds, and every job an intent superseded (the target's own old
 * job under --replace or a retry, which matches the same request and was
 * made just before it).
 */
export function claimedJobIds(lock: Lockfile): ReadonlySet<JobId> {
  const ids = new Set<JobId>();
  for (const t of Object.values(lock.videos)) {
    if (t.job.state === 'job') ids.add(t.job.jobId);
    else for (const id of t.job.supersedes ?? []) ids.add(id);
  }
  return ids;
}

/** What an intent written over `previous` supersedes: its job, or what its own intent did. */
export function supersededBy(previous: LockedTarget | undefined): readonly JobId[] {
  if (previous === undefined) return [];
  if (previous.job.state === 'job') return [previous.job.jobId];
  return previous.job.supersedes ?? [];
}
