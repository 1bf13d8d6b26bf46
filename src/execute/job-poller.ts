import { APIError, APIUserAbortError } from 'openai';
import type { Video } from 'openai/resources/videos';
import type { TargetName } from '../manifest/manifest.js';
import type { Fingerprint, JobId, JobRequest, JobState } from '../lock/lockfile.js';
import { isTerminalStatus } from '../lock/lockfile.js';
import { sleep } from './rate-gate.js';
import { DurationStats, estimatedDuration, nextPollDelay, type PollSample } from './poll-interval.js';
import { connectFailureOf } from './classify-error.js';
import { RunContext } from './run-context.js';
import { clampProgress, isoOrUndefined, jobStateOf, resultShape, withVideo } from './lock-entries.js';

export type PollOutcome =
  | { readonly kind: 'completed'; readonly video: Video }
  | { readonly kind: 'failed' }
  | { readonly kind: 'interrupted' };


const MAX_POLL_ERRORS = 8;
const MAX_POLL_CONNECT_ERRORS = 3;

/** Polls a job to its end at the adaptive interval, recording its status in the lock as it goes. */
export class JobPoller {
  private readonly durations = new DurationStats();

  constructor(private readonly ctx: RunContext) {}

  /**
   * Polls until a terminal status, at adaptive intervals; records status
   * changes in the lock. `sentAtMs` is when this run sent the paid call (the
   * job's clock at the API starts then, not when its id was saved); absent
   * for a job picked up from an earlier run.
   */
  async poll(
    name: TargetName,
    jobId: JobId,
    fingerprint: Fingerprint,
    request: JobRequest,
    sentAtMs: number | undefined,
    initial?: Video,
  ): Promise<PollOutcome> {
    const fresh = sentAtMs !== undefined;
    const startedAtMs = sentAtMs ?? Date.now();
    let first: PollSample | undefined;
    let latest: PollSample | undefined;
    let pollAfterMs: number | undefined;
    let tightInRow = 0;
    let lastStatus: string | undefined = initial?.status;
    let errors = 0;
    let askedAtMs = 0;
    let video: Video | undefined = initial;
    // A resumed job may have finished long ago: look right away.
    let delay = fresh ? undefined : 0;
    for (;;) {
      if (video !== undefined && isTerminalStatus(video.status)) break;
      let wait = delay;
      if (wait === undefined) {
        const next = nextPollDelay({
          startedAtMs,
          nowMs: Date.now(),
          first,
          latest,
          typicalMs: this.durations.typical(),
          pollAfterMs,
          tightInRow,
          minMs: this.ctx.o.pollMinMs ?? 2_000,
          maxMs: this.ctx.o.pollMaxMs ?? 15_000,
        });
        wait = next.ms;
        tightInRow = next.tight ? tightInRow + 1 : 0;
      }
      delay = undefined;
      try {
        await sleep(wait, this.ctx.o.signal);
        await this.ctx.o.rateGate?.wait(this.ctx.o.signal);
        askedAtMs = Date.now();
        const { data, response } = await this.ctx.o.client.videos
          .retrieve(jobId, this.ctx.o.signal === undefined ? {} : { signal: this.ctx.o.signal })
          .withResponse();
        video = data;
        errors = 0;
        const hint = Number(response.headers.get('openai-poll-after-ms'));
        pollAfterMs = Number.isFinite(hint) && hint > 0 ? hint : undefined;
      } catch (e: unknown) {
        errors++;
        const stop = await this.pollError(name, jobId, e, errors);
        if (stop !== undefined) return stop;
        delay = Math.min(1_000 * 2 ** errors, 30_000);
        continue;
      }
      const progress = clampProgress(video.progress);
      if (progress > 0 && progress < 100) {
        // The server measured the progress when the request reached it, just
        // after it was asked for; the answer arrives later by however long the
        // response took (a busy event loop, 20 answers at once at the end of a
        // wave). Dating the sample by its arrival put every expected end, and
        // the learned duration, that much late (~5 ms a job at 2.5 s).
        latest = { atMs: askedAtMs, progress };
        first ??= latest;
      }
      this.ctx.emit({ type: 'job-progress', at: this.ctx.at(), name, jobId, status: video.status, progress, elapsedMs: Date.now() - startedAtMs });
      if (video.status !== lastStatus && !isTerminalStatus(video.status)) {
        lastStatus = video.status;
        // Not awaited: a status change is informative; polling must not wait on the disk.
        void this.setJobStatus(name, jobId, video.status, progress, undefined).catch((e: unknown) => this.ctx.lockWriteFailed(e));
      }
    }

    if (video.status === 'completed') return this.completed(name, jobId, fingerprint, request, video, fresh ? { startedAtMs, first, latest } : undefined);
    return this.ended(name, jobId, request, video);
  }

  /** A poll that threw: the outcome that ends polling, or undefined to try again after a back-off. */
  private async pollError(name: TargetName, jobId: JobId, e: unknown, errors: number): Promise<PollOutcome | undefined> {
    if (this.ctx.aborted || e instanceof APIUserAbortError) return { kind: 'interrupted' };
    if (e instanceof APIError && e.status === 404) {
      this.ctx.fail(name, jobId, 'job-not-found', `job ${jobId} no longer exists on the server`);
      await this.setJobStatus(name, jobId, 'failed', undefined, { code: 'job-not-found', message: 'job not found' });
      return { kind: 'failed' };
    }
    const unconnected = connectFailureOf(e);
    if (unconnected !== undefined && errors >= MAX_POLL_CONNECT_ERRORS) {
      // The server is not there at all (each poll already retried inside the SDK).
      this.ctx.fail(name, jobId, 'connection-failed', `could not connect to ${this.ctx.o.client.baseURL} (${unconnected.code}) to check job ${jobId}; its id is saved, run again to resume`);
      return { kind: 'failed' };
    }
    if (errors >= MAX_POLL_ERRORS) {
      // The id is safe in the lock: a later run resumes the job.
      this.ctx.fail(name, jobId, 'poll-failed', `could not check job ${jobId}: ${e instanceof Error ? e.message : String(e)}`);
      return { kind: 'failed' };
    }
    return undefined;
  }

  /** The job completed: learn its duration (when this run made it), record what the API made. */
  private completed(
    name: TargetName,
    jobId: JobId,
    fingerprint: Fingerprint,
    request: JobRequest,
    video: Video,
    learnFrom: { readonly startedAtMs: number; readonly first: PollSample | undefined; readonly latest: PollSample | undefined } | undefined,
  ): PollOutcome {
    if (learnFrom !== undefined) {
      // Learn how long jobs take (poll-interval.ts says from what).
      const learned = estimatedDuration(learnFrom.startedAtMs, learnFrom.first, learnFrom.latest, Date.now());
      if (learned !== undefined) this.durations.add(learned);
    }
    // The lock records the media as the API made it: an edit or extension
    // of an uploaded file takes that file's shape, whatever the manifest says.
    const made = resultShape(video);
    const asked = this.ctx.writer.lock.videos[name];
    if (made !== undefined && asked !== undefined && (made.size !== asked.size || made.seconds !== asked.seconds)) {
      this.ctx.emit({
        type: 'warning',
        at: this.ctx.at(),
        name,
        message: `the API made a ${made.size} ${made.seconds} s video; the manifest asks for ${asked.size} ${asked.seconds} s (the lock records what was made)`,
      });
    }
    void this.ctx.writer.update((lock) => {
      const entry = lock.videos[name];
      if (entry === undefined) return lock;
      return withVideo(lock, name, { ...entry, ...(made ?? {}), job: jobStateOf(video, request), updatedAt: this.ctx.at() });
    }).catch((e: unknown) => this.ctx.lockWriteFailed(e));
    this.ctx.emit({ type: 'job-completed', at: this.ctx.at(), name, jobId, fingerprint, expiresAt: isoOrUndefined(video.expires_at) });
    return { kind: 'completed', video };
  }

  /** The job ended without a video (failed, expired, canceled): recorded, and the target fails. */
  private async ended(name: TargetName, jobId: JobId, request: JobRequest, video: Video): Promise<PollOutcome> {
    const code = video.error?.code ?? video.status;
    const message = video.error?.message ?? `job ended with status ${video.status}`;
    await this.ctx.writer.update((lock) => {
      const entry = lock.videos[name];
      if (entry === undefined) return lock;
      return withVideo(lock, name, { ...entry, job: jobStateOf(video, request), updatedAt: this.ctx.at() });
    });
    this.ctx.fail(name, jobId, code, message);
    return { kind: 'failed' };
  }

  async setJobStatus(
    name: TargetName,
    jobId: JobId,
    status: string,
    progress: number | undefined,
    error: { code: string; message: string } | undefined,
  ): Promise<void> {
    await this.ctx.writer.update((lock) => {
      const entry = lock.videos[name];
      if (entry === undefined || entry.job.state !== 'job' || entry.job.jobId !== jobId) return lock;
      const job: JobState = {
        ...entry.job,
        status,
        ...(progress === undefined ? {} : { progress }),
        ...(error === undefined ? {} : { error }),
      };
      return withVideo(lock, name, { ...entry, job, updatedAt: this.ctx.at() });
    });
  }
}
