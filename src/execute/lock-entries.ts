import type { Video } from 'openai/resources/videos';
import type { TargetName } from '../manifest/manifest.js';
import { sourceTargetOf } from '../manifest/manifest.js';
import type { Fingerprint, JobId, JobRequest, JobState, LockedAsset, LockedTarget, Lockfile } from '../lock/lockfile.js';
import { isJobId } from '../lock/lock-names.js';
import type { TargetStep } from '../plan/plan.js';

/** Lock entries as the executor writes them: pure helpers over lock and API shapes. */

export function entryBase(step: TargetStep, fingerprint: Fingerprint, at: string): Omit<LockedTarget, 'job' | 'assets'> {
  const source = sourceTargetOf(step.target);
  return {
    kind: step.target.kind,
    fingerprint,
    model: step.target.model,
    size: step.target.size,
    seconds: step.target.seconds,
    ...(source === undefined ? {} : { source }),
    updatedAt: at,
  };
}

/** A copy of the lockfile with one target's entry set (or removed when `entry` is undefined). */
export function withVideo(lock: Lockfile, name: TargetName, entry: LockedTarget | undefined): Lockfile {
  const videos: Record<string, LockedTarget> = { ...lock.videos };
  if (entry === undefined) delete videos[name];
  else videos[name] = entry;
  return { ...lock, videos };
}

export function jobStateOf(video: Video, request: JobRequest): JobState {
  const completedAt = isoOrUndefined(video.completed_at);
  const expiresAt = isoOrUndefined(video.expires_at);
  return {
    state: 'job',
    jobId: jobIdOf(video),
    status: video.status,
    ...(video.status === 'completed' ? { progress: 100 } : { progress: clampProgress(video.progress) }),
    request,
    createdAt: new Date(video.created_at * 1000).toISOString(),
    ...(completedAt === undefined ? {} : { completedAt }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(video.error === null || video.error === undefined ? {} : { error: { code: video.error.code, message: video.error.message } }),
  };
}

/** Size and seconds of a completed video as the API reports them, when it reports them sanely. */
export function resultShape(video: Video): { readonly size: string; readonly seconds: number } | undefined {
  const seconds = Number(video.seconds);
  if (typeof video.size !== 'string' || !/^\d{2,5}x\d{2,5}$/.test(video.size) || !Number.isFinite(seconds) || seconds <= 0) return undefined;
  return { size: video.size, seconds };
}

export function sameAsset(a: LockedAsset | undefined, b: LockedAsset): boolean {
  return a !== undefined && a.path === b.path && a.bytes === b.bytes && a.sha256 === b.sha256;
}

export function jobIdOf(video: Video): JobId {
  if (!isJobId(video.id)) throw new Error('the API returned a video without an id');
  return video.id;
}

export function isoOrUndefined(unixSeconds: number | null | undefined): string | undefined {
  return unixSeconds === null || unixSeconds === undefined ? undefined : new Date(unixSeconds * 1000).toISOString();
}

export function clampProgress(p: unknown): number {
  return typeof p === 'number' && Number.isFinite(p) ? Math.min(100, Math.max(0, p)) : 0;
}
