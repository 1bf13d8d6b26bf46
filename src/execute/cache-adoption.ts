import type { AssetVariant } from '../manifest/manifest.js';
import type { Fingerprint, JobId, JobRequest, JobState, LockedAsset } from '../lock/lockfile.js';
import type { TargetStep } from '../plan/plan.js';
import { RunContext } from './run-context.js';
import { entryBase, withVideo } from './lock-entries.js';
import { AssetWriter, recordedAt } from './asset-writer.js';

/** A target's inputs were generated before: its job, adopted from the cache with its assets restored. */
export type Adopted =
  | { readonly kind: 'completed'; readonly jobId: JobId }
  | { readonly kind: 'failed' };

/**
 * The same inputs were paid for before (a reverted prompt, a renamed
 * target): restore every asset from the cache and record the job that made
 * them, instead of paying again. Undefined when the cache does not hold all
 * of them (the caller then pays, or fails when the plan promised a restore).
 */
export async function adoptFromCache(
  ctx: RunContext,
  assets: AssetWriter,
  step: TargetStep,
  fingerprint: Fingerprint,
  request: JobRequest,
): Promise<Adopted | undefined> {
  const hit = await ctx.cache.lookup(fingerprint);
  if (hit === undefined || hit.jobId === undefined) return undefined;
  if (!step.target.assets.every((v) => hit.assets[v] !== undefined)) return undefined;
  const jobId = hit.jobId;
  const restored: Partial<Record<AssetVariant, LockedAsset>> = {};
  for (const variant of step.target.assets) {
    const rel = step.target.outputs[variant];
    const meta = hit.assets[variant];
    if (rel === undefined || meta === undefined) continue;
    const dest = await assets.outputPath(step.name, jobId, rel);
    if (dest === undefined || !(await assets.mayWrite(step.name, jobId, dest, meta.sha256, recordedAt(step, variant, rel)))) return { kind: 'failed' };
    if (!(await ctx.cache.restore(fingerprint, variant, dest))) return undefined;
    restored[variant] = { path: rel, bytes: meta.bytes, sha256: meta.sha256 };
    ctx.emit({ type: 'asset-restored', at: ctx.at(), name: step.name, variant, path: rel, bytes: meta.bytes, from: 'cache' });
  }
  const at = ctx.at();
  ctx.claimed.add(jobId);
  // The entry the job had when it was made: same times, expiry and media
  // shape (reverting a commit restores its lock entry byte for byte, except
  // updatedAt). Entries cached before these were recorded lack them.
  const job: JobState = {
    state: 'job',
    jobId,
    status: 'completed',
    progress: 100,
    request,
    createdAt: hit.createdAt ?? at,
    ...(hit.completedAt === undefined ? {} : { completedAt: hit.completedAt }),
    ...(hit.expiresAt === undefined ? {} : { expiresAt: hit.expiresAt }),
  };
  await ctx.writer.update((lock) =>
    withVideo(lock, step.name, {
      ...entryBase(step, fingerprint, at),
      ...(hit.size === undefined ? {} : { size: hit.size }),
      ...(hit.seconds === undefined ? {} : { seconds: hit.seconds }),
      job,
      assets: restored,
    }),
  );
  return { kind: 'completed', jobId };
}
