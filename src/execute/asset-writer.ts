import type { AssetVariant, TargetName } from '../manifest/manifest.js';
import type { Fingerprint, JobId, JobRequest, JobState, LockedAsset, Sha256 } from '../lock/lockfile.js';
import type { TargetStep } from '../plan/plan.js';
import { downloadAsset } from './download-asset.js';
import { outputPathInside } from './output-path.js';
import { type CacheRecord } from './asset-cache.js';
import type { RecordedOutput } from './overwrite-guard.js';
import { describeLocalWrite, localWriteErrorOf } from '../core/local-write-error.js';
import { RunContext } from './run-context.js';
import { sameAsset, withVideo } from './lock-entries.js';

/**
 * Puts a completed job's assets in place: downloads (bounded by the download
 * limit, verified, through the overwrite guard) or restores from the cache,
 * adds them to the cache, and records them in the lock.
 */
export class AssetWriter {
  constructor(private readonly ctx: RunContext) {}

  /** Downloads every variant of a completed job (bounded by the download limit). */
  async materialize(
    step: TargetStep,
    jobId: JobId,
    fingerprint: Fingerprint,
    request: JobRequest,
    variants: readonly AssetVariant[],
  ): Promise<boolean> {
    const record = this.cacheRecord(step, jobId, fingerprint);
    const results = await Promise.all(
      variants.map((variant) => this.ctx.dl(() => this.downloadOne(step, jobId, variant, record))),
    );
    void request;
    return results.every((r) => r);
  }

  /**
   * What the cache keeps besides the bytes, taken from the target's lock
   * entry (the media as the API made it, the job's times) so that a later
   * restore from the cache writes the same entry back.
   */
  cacheRecord(step: TargetStep, jobId: JobId, fingerprint: Fingerprint): CacheRecord {
    const entry = this.ctx.writer.lock.videos[step.name];
    const job = entry?.job.state === 'job' && entry.job.jobId === jobId ? entry.job : undefined;
    return {
      fingerprint,
      name: step.name,
      kind: step.target.kind,
      prompt: step.target.prompt,
      model: step.target.model,
      size: entry?.size ?? step.target.size,
      seconds: entry?.seconds ?? step.target.seconds,
      jobId,
      createdAt: job?.createdAt ?? this.ctx.at(),
      completedAt: job?.completedAt,
      expiresAt: job?.expiresAt,
    };
  }

  async downloadOne(step: TargetStep, jobId: JobId, variant: AssetVariant, record: CacheRecord): Promise<boolean> {
    const rel = step.target.outputs[variant];
    if (rel === undefined) return true;
    if (this.ctx.aborted) return false;
    const dest = await this.outputPath(step.name, jobId, rel);
    if (dest === undefined) return false;
    // The committed bytes of this very job, if the lock records them.
    const locked = step.locked;
    const expectedSha256 = locked?.job.state === 'job' && locked.job.jobId === jobId ? locked.assets[variant]?.sha256 : undefined;
    const recordedHere = recordedAt(step, variant, rel);
    const guard = (abs: string, incoming: Sha256) => this.ctx.guard(abs, incoming, recordedHere);
    const r = await downloadAsset({ client: this.ctx.o.client, jobId, variant, dest, signal: this.ctx.o.signal, expectedSha256, guard, rateGate: this.ctx.o.rateGate });
    if (!r.ok) {
      if (r.error.code === 'aborted') return false;
      if (r.error.code === 'asset-expired') {
        // Remember it, so the next plan says `regenerate` (with its cost)
        // instead of planning the same doomed download forever.
        await this.markExpired(step.name, jobId);
        this.ctx.fail(step.name, jobId, r.error.code, `${r.error.message}; it is not in the cache either, so the next plan regenerates it`);
        return false;
      }
      this.ctx.fail(step.name, jobId, r.error.code, r.error.message);
      return false;
    }
    const { bytes, sha256 } = r.value;
    // The output is in place: the cache takes its copy while the lock records
    // it (neither needs the other, and a crash between them leaves what a
    // failed cache write leaves), so the last download of a run ends one
    // copy-hash-fsync sooner.
    const cached = this.ctx.cache.add(record, variant, dest, sha256, bytes).catch((e: unknown) => {
      this.ctx.emit({ type: 'warning', at: this.ctx.at(), name: step.name, message: `could not add ${rel} to the cache: ${e instanceof Error ? e.message : String(e)}` });
    });
    try {
      await this.setAsset(step.name, variant, { path: rel, bytes, sha256 });
    } finally {
      await cached;
    }
    this.ctx.emit({ type: 'asset-restored', at: this.ctx.at(), name: step.name, variant, path: rel, bytes, from: 'remote' });
    return true;
  }

  /**
   * The absolute path for an output (its directory created), or undefined
   * after failing the target: the path leads outside the project, or the
   * directory cannot be made (disk full, read-only, a file in the way).
   */
  async outputPath(name: TargetName, jobId: JobId, rel: string): Promise<string | undefined> {
    let dest: Awaited<ReturnType<typeof outputPathInside>>;
    try {
      dest = await outputPathInside(this.ctx.o.manifest.projectDir, rel);
    } catch (e: unknown) {
      const local = localWriteErrorOf(e);
      if (local === undefined) throw e;
      this.ctx.fail(name, jobId, 'write-failed', describeLocalWrite(local, rel, this.ctx.o.manifest.projectDir));
      return undefined;
    }
    if (!dest.ok) {
      this.ctx.fail(name, jobId, dest.error.code, dest.error.message);
      return undefined;
    }
    return dest.value;
  }

  /** Whether these bytes may take `dest`'s place (overwrite-guard.ts); fails the target when not. */
  async mayWrite(name: TargetName, jobId: JobId, dest: string, incoming: Sha256, recordedHere: RecordedOutput | undefined): Promise<boolean> {
    const allowed = await this.ctx.guard(dest, incoming, recordedHere);
    if (!allowed.ok) this.ctx.fail(name, jobId, 'output-not-ours', allowed.message);
    return allowed.ok;
  }

  /** `fetch`: restore missing assets from the cache, else download them from the locked job. */
  async restoreAssets(step: TargetStep, job: JobState, fingerprint: Fingerprint): Promise<boolean> {
    const record = this.cacheRecord(step, job.jobId, fingerprint);
    const hit = await this.ctx.cache.lookup(fingerprint);
    const lockedAssets = step.locked?.assets ?? {};
    const results = await Promise.all(
      step.restores.map(async (r) => {
        // The bytes this job made: the ones the lock records, else the ones
        // the cache index holds for this very job. The index of a fingerprint
        // may name another job with the same inputs (two takes of one prompt,
        // a --replace): its bytes are not this job's.
        const meta = lockedAssets[r.variant] ?? (hit?.jobId === job.jobId ? hit.assets[r.variant] : undefined);
        // The cache first even when the plan expected a download: it may have
        // been refilled since (from outputs on disk as locked, by a sibling run).
        if (meta !== undefined) {
          const dest = await this.outputPath(step.name, job.jobId, r.path);
          if (dest === undefined || !(await this.mayWrite(step.name, job.jobId, dest, meta.sha256, recordedAt(step, r.variant, r.path)))) return false;
          if (await this.ctx.cache.restoreBytes(meta, dest)) {
            await this.setAsset(step.name, r.variant, { path: r.path, bytes: meta.bytes, sha256: meta.sha256 });
            this.ctx.emit({ type: 'asset-restored', at: this.ctx.at(), name: step.name, variant: r.variant, path: r.path, bytes: meta.bytes, from: 'cache' });
            return true;
          }
        }
        if (this.ctx.o.frozen === true && r.from === 'generate') {
          this.ctx.fail(step.name, job.jobId, 'frozen', `${r.path} needs a new job; --frozen never creates jobs`);
          return false;
        }
        return this.ctx.dl(() => this.downloadOne(step, job.jobId, r.variant, record));
      }),
    );
    return results.every((x) => x);
  }

  /** The API no longer serves this job's assets: its expiry is now at the latest. */
  async markExpired(name: TargetName, jobId: JobId): Promise<void> {
    const now = this.ctx.at();
    await this.ctx.writer.update((lock) => {
      const entry = lock.videos[name];
      if (entry === undefined || entry.job.state !== 'job' || entry.job.jobId !== jobId) return lock;
      if (entry.job.expiresAt !== undefined && entry.job.expiresAt <= now) return lock;
      return withVideo(lock, name, { ...entry, job: { ...entry.job, expiresAt: now }, updatedAt: now });
    });
  }

  async setAsset(name: TargetName, variant: AssetVariant, asset: LockedAsset): Promise<void> {
    await this.ctx.writer.update((lock) => {
      const entry = lock.videos[name];
      if (entry === undefined) return lock;
      // Restoring the very bytes the lock records (a deleted output, a pull
      // in CI) leaves videos.lock as it is, byte for byte.
      if (sameAsset(entry.assets[variant], asset)) return lock;
      return withVideo(lock, name, { ...entry, assets: { ...entry.assets, [variant]: asset }, updatedAt: this.ctx.at() });
    });
  }
}

/**
 * What the target's lock entry records at this very path: a file there with
 * other bytes is its output, changed since (the guard keeps it aside).
 */
export function recordedAt(step: TargetStep, variant: AssetVariant, rel: string): RecordedOutput | undefined {
  const asset = step.locked?.assets[variant];
  return asset !== undefined && asset.path === rel ? { name: step.name, sha256: asset.sha256 } : undefined;
}
