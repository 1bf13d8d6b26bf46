import type OpenAI from 'openai';
import type { TargetName } from '../manifest/manifest.js';
import { isTerminalStatus, lockedJobIds, type IntentState, type JobState, type LockedTarget, type Lockfile } from '../lock/lockfile.js';
import { isJobId } from '../lock/lock-names.js';
import { isPaidAction, type Plan, type TargetStep } from '../plan/plan.js';
import { ObsoleteJobs, type ObsoleteJob } from './obsolete-jobs.js';
import { findCreatedJob } from './reconcile.js';
import { forgetObsolete, listObsolete } from '../lock/obsolete-ledger.js';

/*
 * Jobs an earlier (interrupted) run left in flight, as the next apply finds
 * them: those its plan makes obsolete (finished into the cache beside the
 * run, as watch does) and those --replace forces out.
 */

/**
 * In-flight jobs of an earlier run that the plan replaces with other inputs
 * (the apply command finishes them into the cache). Read from the lock's
 * own entry, not the step's: a step may have taken another job for its
 * inputs (a renamed target's, or an obsolete one of an earlier edit, now
 * reverted), and the entry it replaces is then the one the lock forgets.
 */
export function obsoleteInFlight(plan: Plan, lock: Lockfile): ObsoleteJob[] {
  const found: ObsoleteJob[] = [];
  for (const s of plan.steps) {
    if (s.action === 'orphan') continue;
    const own = lock.videos[s.name];
    // Replaced by a new job, or by one restored from the cache (a prompt
    // edited back to an earlier version): either way the lock moves on.
    if (ObsoleteJobs.isObsolete(own, s.fingerprint)) found.push({ name: s.name, locked: own, job: own.job });
  }
  return found;
}

/**
 * Jobs of the obsolete ledger (lock/obsolete-ledger.ts) that no run is
 * finishing: an earlier run stopped before they reached the cache. Records
 * of jobs the lockfile holds again are dropped; those this plan takes as a
 * target's job are left to it.
 */
export async function obsoleteOnRecord(projectDir: string, plan: Plan, lock: Lockfile): Promise<ObsoleteJob[]> {
  const records = await listObsolete(projectDir);
  if (records.length === 0) return [];
  const held = lockedJobIds(lock);
  const taken = new Set<string>();
  for (const s of plan.steps) if (s.action !== 'orphan' && s.locked?.job.state === 'job') taken.add(s.locked.job.jobId);
  const found: ObsoleteJob[] = [];
  for (const r of records) {
    if (held.has(r.locked.job.jobId)) await forgetObsolete(projectDir, r.locked.job.jobId);
    else if (!taken.has(r.locked.job.jobId)) found.push({ name: r.name, locked: r.locked, job: r.locked.job });
  }
  return found;
}

/**
 * A run killed between sending a paid call and saving its id leaves an
 * intent; a plan that replaces the target (its prompt was edited since)
 * would overwrite it, and a job that call created would be forgotten.
 * Look for it the way a resume would (`videos.list`, free) and, if found,
 * hand it to the obsolete-job finisher like any replaced in-flight job.
 */
export async function createdByLostIntents(
  plan: Plan,
  lock: Lockfile,
  client: OpenAI,
  warn: (name: TargetName, message: string) => void,
): Promise<ObsoleteJob[]> {
  const steps = plan.steps.filter(
    (s): s is TargetStep & { locked: LockedTarget & { job: IntentState } } =>
      s.action !== 'orphan' && s.action !== 'resume' && s.action !== 'unchanged' && s.locked?.job.state === 'intent',
  );
  if (steps.length === 0) return [];
  const claimed = lockedJobIds(lock);
  const found: ObsoleteJob[] = [];
  for (const s of steps) {
    const intent = s.locked.job;
    try {
      const video = await findCreatedJob(client, { request: intent.request, resultSeconds: s.locked.seconds, intentAt: intent.intentAt, claimed });
      if (video === undefined || !isJobId(video.id)) continue;
      claimed.add(video.id);
      const job: JobState = { state: 'job', jobId: video.id, status: video.status, request: intent.request, createdAt: new Date(video.created_at * 1000).toISOString() };
      found.push({ name: s.name, locked: { ...s.locked, job }, job });
    } catch {
      warn(s.name, `could not check whether the interrupted run of ${intent.intentAt} created a job (it may exist, paid for, and is no longer tracked)`);
    }
  }
  return found;
}

/** In-flight jobs forced out by --replace with the same inputs: caching them would compete with their replacement. */
export function replacedInFlight(plan: Plan): TargetStep[] {
  return plan.steps.filter(
    (s): s is TargetStep =>
      s.action !== 'orphan' &&
      isPaidAction(s.action) &&
      s.locked?.job.state === 'job' &&
      !isTerminalStatus(s.locked.job.status) &&
      s.locked.fingerprint === s.fingerprint,
  );
}
