import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { APIError, type default as OpenAI } from 'openai';
import type { AssetVariant, TargetName } from '../manifest/manifest.js';
import type { Fingerprint, JobState, LockedTarget } from '../lock/lockfile.js';
import { isTerminalStatus } from '../lock/lockfile.js';
import type { AssetCache } from './asset-cache.js';
import { downloadAsset } from './download-asset.js';
import { sleep } from './rate-gate.js';
import { makeDirs } from '../core/make-dirs.js';
import { OBSOLETE_DIR, forgetObsolete, recordObsolete } from '../lock/obsolete-ledger.js';

/**
 * A job made obsolete by a newer edit. It was paid for, so it is polled to
 * the end and its assets land in the local cache (not the lockfile): reverting
 * the edit restores them for free.
 */
export interface ObsoleteJobEvent {
  readonly type: 'obsolete-job';
  readonly name: TargetName;
  readonly jobId: string;
  readonly state: 'finishing' | 'cached' | 'failed' | 'abandoned';
  readonly message: string | undefined;
}

/**
 * Jobs made obsolete by a newer edit while they ran (DESIGN §7). The session
 * superseded the apply that started them, and the next plan replaces the
 * target, so the lockfile is about to forget them; but they were paid for.
 * Each is polled here until it ends and, if it completed, its video,
 * thumbnail and spritesheet are downloaded into the local cache under the *old* fingerprint,
 * never into the outputs or the lockfile. Reverting the edit then plans a
 * cache restore at no cost.
 *
 * Runs beside the next apply: it only reads the API and writes cache objects.
 */
export interface ObsoleteJob {
  readonly name: TargetName;
  readonly locked: LockedTarget;
  readonly job: JobState;
}

export interface ObsoleteJobsOptions {
  readonly client: OpenAI;
  readonly projectDir: string;
  readonly cache: AssetCache;
  readonly pollMinMs: number;
  readonly pollMaxMs: number;
  readonly onEvent: (event: ObsoleteJobEvent) => void;
}

/**
 * Every variant: the cache entry must serve a later restore of this version
 * whatever assets the target lists then (a target with a spritesheet whose
 * cached copy lacked it paid again on revert). Only the video is required.
 */
const VARIANTS: readonly AssetVariant[] = ['video', 'thumbnail', 'spritesheet'];

export class ObsoleteJobs {
  readonly #o: ObsoleteJobsOptions;
  readonly #running = new Map<string, { readonly fingerprint: Fingerprint; readonly done: Promise<void>; readonly recorded: Promise<void> }>();
  readonly #stop = new AbortController();
  /** Jobs already finished (or given up on) this session; the lockfile may still name them. */
  readonly #settled = new Set<string>();

  constructor(options: ObsoleteJobsOptions) {
    this.#o = options;
    // Every poll and download of every job listens on this one signal.
    setMaxListeners(0, this.#stop.signal);
  }

  /** An in-flight job the lockfile still holds whose target now wants different inputs. */
  static isObsolete(locked: LockedTarget | undefined, currentFingerprint: Fingerprint | undefined): locked is LockedTarget & { job: JobState } {
    return (
      locked !== undefined &&
      locked.job.state === 'job' &&
      !isTerminalStatus(locked.job.status) &&
      locked.fingerprint !== currentFingerprint
    );
  }

  get pending(): number {
    return this.#running.size;
  }

  /** Fingerprints whose jobs are still being finished. */
  pendingFingerprints(): ReadonlySet<Fingerprint> {
    return new Set([...this.#running.values()].map((r) => r.fingerprint));
  }

  /**
   * Start finishing `job` (once per job id). Resolves once the job is
   * recorded in the project's obsolete ledger (lock/obsolete-ledger.ts):
   * await it before the lockfile lets go of the job, so a run stopped before
   * the job finishes leaves it on record for the next one.
   */
  finish(job: ObsoleteJob): Promise<void> {
    const id = job.job.jobId;
    const known = this.#running.get(id);
    if (known !== undefined) return known.recorded;
    if (this.#settled.has(id)) return Promise.resolve();
    this.#o.onEvent({ type: 'obsolete-job', name: job.name, jobId: id, state: 'finishing', message: undefined });
    const recorded = recordObsolete(this.#o.projectDir, { name: job.name, locked: { ...job.locked, job: job.job } }).catch((e: unknown) => {
      this.#o.onEvent({ type: 'obsolete-job', name: job.name, jobId: id, state: 'failed', message: `could not record it in ${OBSOLETE_DIR} (${e instanceof Error ? e.message : String(e)}); it is finished into the cache by this run only` });
    });
    const done = recorded.then(() => this.#finish(job)).finally(() => {
      this.#running.delete(id);
      this.#settled.add(id);
    });
    this.#running.set(id, { fingerprint: job.locked.fingerprint, done, recorded });
    return recorded;
  }

  /** Resolves when every job for these fingerprints is done. */
  async waitFor(fingerprints: ReadonlySet<Fingerprint>): Promise<void> {
    await Promise.all([...this.#running.values()].filter((r) => fingerprints.has(r.fingerprint)).map((r) => r.done));
  }

  /** Resolves when all are done, or as soon as `signal` fires (then the rest are abandoned). */
  async settle(signal: AbortSignal): Promise<void> {
    const all = Promise.all([...this.#running.values()].map((r) => r.done));
    if (signal.aborted) {
      this.abandon();
      return;
    }
    await new Promise<void>((resolve) => {
      const onAbort = () => {
        this.abandon();
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      void all.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** Stop polling; the jobs finish on the provider's side but are not kept. */
  abandon(): void {
    this.#stop.abort();
  }

  async #finish({ name, locked, job }: ObsoleteJob): Promise<void> {
    const { client } = this.#o;
    const signal = this.#stop.signal;
    const report = (state: ObsoleteJobEvent['state'], message?: string) =>
      this.#o.onEvent({ type: 'obsolete-job', name, jobId: job.jobId, state, message });
    // Off the record once there is nothing left to save: in the cache, or ended without a video.
    const done = () => forgetObsolete(this.#o.projectDir, job.jobId);
    let delay = this.#o.pollMinMs;
    try {
      for (;;) {
        const video = await client.videos.retrieve(job.jobId, { signal });
        if (video.status === 'completed') break;
        if (isTerminalStatus(video.status)) {
          await done();
          report('failed', video.error?.message ?? video.status);
          return;
        }
        await sleep(delay, signal);
        delay = Math.min(this.#o.pollMaxMs, Math.round(delay * 1.5));
      }
      const tmpDir = path.join(this.#o.projectDir, '.vidbuild', 'tmp');
      await makeDirs(tmpDir);
      for (const variant of VARIANTS) {
        const dest = path.join(tmpDir, `obsolete-${job.jobId}-${variant}-${randomBytes(4).toString('hex')}`);
        try {
          const got = await downloadAsset({ client, jobId: job.jobId, variant, dest, signal });
          if (!got.ok) {
            // The video is what matters; a missing thumbnail or spritesheet only costs that file.
            if (variant === 'video') {
              // An expired download cannot come back; anything else may go better next run.
              if (got.error.code === 'asset-expired') await done();
              report('failed', got.error.message);
              return;
            }
            continue;
          }
          await this.#o.cache.add(
            {
              fingerprint: locked.fingerprint,
              name,
              kind: locked.kind,
              prompt: job.request.prompt,
              model: locked.model,
              size: locked.size,
              seconds: locked.seconds,
              jobId: job.jobId,
              createdAt: job.createdAt,
            },
            variant,
            dest,
            got.value.sha256,
            got.value.bytes,
          );
        } finally {
          await unlink(dest).catch(() => undefined);
        }
      }
      await done();
      report('cached');
    } catch (e: unknown) {
      // A job the provider no longer has cannot be finished by a later run either.
      if (e instanceof APIError && e.status === 404) await done();
      if (signal.aborted) report('abandoned', 'session ended before the job finished');
      else report('failed', e instanceof Error ? e.message : String(e));
    }
  }
}
