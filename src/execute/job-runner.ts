import path from 'node:path';
import { APIError } from 'openai';
import type { Video } from 'openai/resources/videos';
import type { AssetVariant, Target, TargetName } from '../manifest/manifest.js';
import { referencedFilesOf } from '../manifest/manifest.js';
import type { CharacterId, Fingerprint, JobId, JobRequest, JobState, LockedAsset, Sha256 } from '../lock/lockfile.js';
import { isJobId } from '../lock/lock-names.js';
import type { TargetStep } from '../plan/plan.js';
import { fingerprintTarget } from '../plan/fingerprint.js';
import { buildJobRequest } from '../plan/job-request.js';
import type { JobReconciledEvent } from './events.js';
import { sleep } from './rate-gate.js';
import { classifyCallError, connectFailureOf } from './classify-error.js';
import { sendJob } from './send-job.js';
import { CLOCK_SLACK_MS, findCreatedJob } from './reconcile.js';
import { supersededBy } from './claimed-jobs.js';
import { describeLocalWrite, localWriteErrorOf } from '../core/local-write-error.js';
import { RunContext } from './run-context.js';
import { entryBase, jobIdOf, jobStateOf, withVideo } from './lock-entries.js';
import { AssetWriter } from './asset-writer.js';
import { JobPoller, type PollOutcome } from './job-poller.js';
import { explainRefusal } from './explain-refusal.js';
import { RemoteClaims } from './remote-claim-step.js';

export type GenOutcome =
  | { readonly kind: 'completed'; readonly jobId: JobId; readonly fingerprint: Fingerprint; readonly video: Video | undefined; readonly request: JobRequest; readonly fromCache: boolean }
  | { readonly kind: 'failed' }
  | { readonly kind: 'interrupted' };

/** Source / character resolution for a target about to run. */
export type Inputs =
  | { readonly ok: true; readonly sourceJobId: JobId | undefined; readonly characterIds: readonly CharacterId[] }
  | { readonly ok: false; readonly reason: string };

export const MAX_SUBMIT_ATTEMPTS = 6;
/** Tries of the (free) `videos.list` walk when reconciling an intent. */
export const RECONCILE_LIST_ATTEMPTS = 3;

/**
 * One target's paid job, exactly once: reuse from the cache, resume or
 * reconcile an earlier run's, or write the intent, send, and write the id
 * the moment it returns; then poll it to the end (job-poller.ts).
 */
export class JobRunner {
  private reconcileChain: Promise<unknown> = Promise.resolve();
  /** The shared lock before each paid call, when the run has a remote. */
  readonly remote: RemoteClaims;

  constructor(
    private readonly ctx: RunContext,
    private readonly assets: AssetWriter,
    private readonly poller: JobPoller,
  ) {
    this.remote = new RemoteClaims(ctx, (...args) => this.reconcile(...args));
  }

  /** Inside a generation slot: reuse from cache, resume, reconcile or submit, then poll to the end. */
  async generate(step: TargetStep, inputs: Inputs & { ok: true }): Promise<GenOutcome> {
    if (this.ctx.aborted) {
      this.ctx.emit({ type: 'job-skipped', at: this.ctx.at(), name: step.name, reason: 'interrupted' });
      return { kind: 'interrupted' };
    }
    const target = step.target;
    const locked = this.ctx.writer.lock.videos[step.name];

    // A job from an earlier run that already has an id: never recreate, poll it.
    if (step.action === 'resume' && locked?.job.state === 'job') {
      const job = locked.job;
      this.ctx.emit({ type: 'job-submitted', at: this.ctx.at(), name: step.name, jobId: job.jobId, kind: target.kind, fingerprint: locked.fingerprint, resumed: true });
      const polled = await this.poller.poll(step.name, job.jobId, locked.fingerprint, job.request, false);
      return this.afterPoll(polled, job.jobId, locked.fingerprint, job.request);
    }

    const request =
      step.action === 'resume' && locked?.job.state === 'intent'
        ? locked.job.request
        : buildJobRequest(target, {
            sourceJobId: inputs.sourceJobId,
            uploadSha256: this.uploadShaOf(target),
            characterIds: inputs.characterIds,
          });
    const fingerprint =
      step.action === 'resume' && locked !== undefined
        ? locked.fingerprint
        : step.provisional
          ? this.recomputeFingerprint(target, inputs)
          : step.fingerprint;

    // An intent left by an earlier run: the job may exist already.
    if (step.action === 'resume' && locked?.job.state === 'intent') {
      const found = await this.reconcile(step.name, request, target.seconds, locked.job.intentAt, 'interrupted-run');
      if (found === 'error') {
        const why = this.ctx.unreachable === undefined ? '' : ` (${this.ctx.unreachable})`;
        this.ctx.fail(step.name, undefined, 'reconcile-failed', `could not list videos to check for a job created by the interrupted run${why}; the intent is kept, try again`);
        return { kind: 'failed' };
      }
      if (found !== undefined) return this.pollFound(step, fingerprint, request, found);
    }

    // The same inputs were generated before (a reverted prompt, a renamed
    // target): restore from the cache instead of paying again.
    // Except when the user forced a new job with --replace: that is the point of it.
    const forced = step.action === 'replace' && step.changes.includes('--replace');
    const cached = forced ? undefined : await this.fromCache(step, fingerprint, request);
    if (cached !== undefined) return cached;

    if (this.ctx.o.frozen === true) {
      this.ctx.fail(step.name, undefined, 'frozen', `needs a new job (${step.reason}); --frozen never creates jobs`);
      return { kind: 'failed' };
    }

    // Sent again after reconciling found nothing: the old time while a job of
    // the first call could still appear within its window, else a fresh one,
    // so that the window covers this call.
    const intentAt =
      step.action === 'resume' && locked?.job.state === 'intent' && this.ctx.now().getTime() - Date.parse(locked.job.intentAt) <= CLOCK_SLACK_MS
        ? locked.job.intentAt
        : this.ctx.at();
    // Another machine may be making (or have made) this very job: ask the shared lock first.
    const claim = await this.remote.beforeCreate(step, fingerprint, request);
    if (claim.kind === 'adopt') return this.pollFound(step, fingerprint, request, claim.video);
    if (claim.kind !== 'create') return { kind: claim.kind };
    const video = await this.submit(step, fingerprint, request, intentAt);
    await this.remote.afterSubmit(step, video);
    if (video === undefined) return { kind: 'failed' };
    this.ctx.createdThisRun.add(step.name);
    const jobId = jobIdOf(video);
    const polled = await this.poller.poll(step.name, jobId, fingerprint, request, true, video);
    return this.afterPoll(polled, jobId, fingerprint, request);
  }

  /** A job this run did not create (an earlier run's, another runner's): recorded, then polled like a resumed one. */
  private async pollFound(step: TargetStep, fingerprint: Fingerprint, request: JobRequest, found: Video): Promise<GenOutcome> {
    await this.recordJob(step, fingerprint, request, found);
    this.ctx.emit({ type: 'job-submitted', at: this.ctx.at(), name: step.name, jobId: jobIdOf(found), kind: step.target.kind, fingerprint, resumed: true });
    const polled = await this.poller.poll(step.name, jobIdOf(found), fingerprint, request, false, found);
    return this.afterPoll(polled, jobIdOf(found), fingerprint, request);
  }

  afterPoll(polled: PollOutcome, jobId: JobId, fingerprint: Fingerprint, request: JobRequest): GenOutcome {
    switch (polled.kind) {
      case 'completed':
        return { kind: 'completed', jobId, fingerprint, video: polled.video, request, fromCache: false };
      case 'failed':
        return { kind: 'failed' };
      case 'interrupted':
        return { kind: 'interrupted' };
    }
  }

  uploadShaOf(target: Target): Sha256 | undefined {
    const file = referencedFilesOf(target)[0];
    return file === undefined ? undefined : this.ctx.o.fileHashes.get(file);
  }

  recomputeFingerprint(target: Target, inputs: Inputs & { ok: true }): Fingerprint {
    const files: Sha256[] = [];
    for (const f of referencedFilesOf(target)) {
      const sha = this.ctx.o.fileHashes.get(f);
      if (sha !== undefined) files.push(sha);
    }
    return fingerprintTarget(target, {
      files,
      source: inputs.sourceJobId === undefined ? undefined : { jobId: inputs.sourceJobId },
      characters: inputs.characterIds.map((id) => ({ id })),
    });
  }

  async fromCache(step: TargetStep, fingerprint: Fingerprint, request: JobRequest): Promise<GenOutcome | undefined> {
    const hit = await this.ctx.cache.lookup(fingerprint);
    if (hit === undefined || hit.jobId === undefined) return undefined;
    if (!step.target.assets.every((v) => hit.assets[v] !== undefined)) return undefined;
    const jobId = hit.jobId;
    const assets: Partial<Record<AssetVariant, LockedAsset>> = {};
    for (const variant of step.target.assets) {
      const rel = step.target.outputs[variant];
      const meta = hit.assets[variant];
      if (rel === undefined || meta === undefined) continue;
      const dest = await this.assets.outputPath(step.name, jobId, rel);
      if (dest === undefined || !(await this.assets.mayWrite(step.name, jobId, dest, meta.sha256))) return { kind: 'failed' };
      if (!(await this.ctx.cache.restore(fingerprint, variant, dest))) return undefined;
      assets[variant] = { path: rel, bytes: meta.bytes, sha256: meta.sha256 };
      this.ctx.emit({ type: 'asset-restored', at: this.ctx.at(), name: step.name, variant, path: rel, bytes: meta.bytes, from: 'cache' });
    }
    const at = this.ctx.at();
    this.ctx.claimed.add(jobId);
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
    await this.ctx.writer.update((lock) =>
      withVideo(lock, step.name, {
        ...entryBase(step, fingerprint, at),
        ...(hit.size === undefined ? {} : { size: hit.size }),
        ...(hit.seconds === undefined ? {} : { seconds: hit.seconds }),
        job,
        assets,
      }),
    );
    return { kind: 'completed', jobId, fingerprint, video: undefined, request, fromCache: true };
  }

  /**
   * The paid call, exactly once: intent on disk → call (no SDK retries) → id
   * on disk. A 429 waits on the shared gate and sends again (the server
   * accepted nothing); an unknown outcome is reconciled before resending; a
   * refusal fails the target.
   */
  async submit(step: TargetStep, fingerprint: Fingerprint, request: JobRequest, intentAt: string): Promise<Video | undefined> {
    const previous = this.ctx.writer.lock.videos[step.name];
    if (this.ctx.unreachable !== undefined) {
      this.ctx.skip(step.name, `not sent: ${this.ctx.unreachable}`);
      return undefined;
    }
    const supersedes = supersededBy(previous);
    await this.ctx.writer.update((lock) =>
      withVideo(lock, step.name, {
        ...entryBase(step, fingerprint, this.ctx.at()),
        job: { state: 'intent', intentAt, request, ...(supersedes.length === 0 ? {} : { supersedes }) },
        assets: {},
      }),
    );
    this.ctx.emit({ type: 'job-intent', at: this.ctx.at(), name: step.name, kind: step.target.kind, fingerprint });

    let lastMessage = '';
    // Whether any attempt for this intent may have reached the server: only
    // then must the intent outlive a failure (for the next run to reconcile).
    let maybeSent = step.action === 'resume' && previous?.job.state === 'intent';
    for (let attempt = 0; attempt < MAX_SUBMIT_ATTEMPTS; attempt++) {
      if (this.ctx.unreachable !== undefined) {
        if (!maybeSent) await this.ctx.writer.update((lock) => withVideo(lock, step.name, previous));
        this.ctx.skip(step.name, `not sent: ${this.ctx.unreachable}`);
        return undefined;
      }
      let video: Video;
      try {
        video = await sendJob({ client: this.ctx.o.client, projectDir: this.ctx.o.manifest.projectDir }, step.target, request);
      } catch (e: unknown) {
        const f = classifyCallError(e);
        lastMessage = f.message;
        switch (f.kind) {
          case 'rate-limited':
            // The gate (closed by the client's fetch) holds every request back; just wait for it.
            await this.ctx.o.rateGate?.wait();
            continue;
          case 'refused': {
            await this.ctx.writer.update((lock) => withVideo(lock, step.name, previous));
            this.ctx.fail(step.name, undefined, f.code, await explainRefusal(this.ctx, step, request, f));
            return undefined;
          }
          case 'not-sent': {
            // No connection, so nothing was sent or billed: fail now instead of
            // spinning through reconcile rounds against a server that is not there.
            // The intent goes only if no earlier attempt may have reached the server.
            if (!maybeSent) await this.ctx.writer.update((lock) => withVideo(lock, step.name, previous));
            this.ctx.markUnreachable(f);
            this.ctx.fail(step.name, undefined, 'connection-failed', `${this.ctx.unreachable ?? f.message}; nothing was sent`);
            return undefined;
          }
          case 'unknown': {
            maybeSent = true;
            // Give the server a moment to make the job visible, then look for it.
            await sleep(Math.min(500 * 2 ** attempt, 8_000)).catch(() => undefined);
            const found = await this.reconcile(step.name, request, step.target.seconds, intentAt, 'lost-response');
            if (found === 'error') continue;
            if (found !== undefined) return this.accepted(step, fingerprint, request, found);
            if (this.ctx.aborted) {
              this.ctx.emit({ type: 'job-skipped', at: this.ctx.at(), name: step.name, reason: 'interrupted' });
              this.ctx.counts.skipped++;
              return undefined;
            }
            continue;
          }
        }
      }
      if (!isJobId(video.id)) return this.acceptedWithoutId(step, fingerprint, request, intentAt);
      // Outside the try above: a failure to save the id is not a failed call,
      // and must never lead to sending the paid call again.
      return this.accepted(step, fingerprint, request, video);
    }
    // The intent stays in the lock: the next run reconciles before creating.
    this.ctx.fail(step.name, undefined, 'submit-failed', `could not submit the job: ${lastMessage}`);
    return undefined;
  }

  /**
   * The API accepted the job (or reconciliation found it): it is paid for
   * from here on. Save its id; if the lock cannot be written (disk full,
   * read-only), the target fails without another paid call, and the intent
   * already on disk lets the next run adopt this job through reconciliation.
   */
  async accepted(step: TargetStep, fingerprint: Fingerprint, request: JobRequest, video: Video): Promise<Video | undefined> {
    const jobId = jobIdOf(video);
    this.ctx.cost += step.cost;
    if (step.unpriced === true) this.ctx.unpriced++;
    try {
      await this.recordJob(step, fingerprint, request, video);
    } catch (e: unknown) {
      const local = localWriteErrorOf(e);
      const why = local === undefined ? (e instanceof Error ? e.message : String(e)) : describeLocalWrite(local, path.basename(this.ctx.o.lockPath), path.dirname(this.ctx.o.lockPath));
      this.ctx.fail(step.name, jobId, 'lock-write-failed', `job ${jobId} was created but its id could not be saved: ${why}; the next run finds it again from the saved intent (no new job)`);
      return undefined;
    }
    this.ctx.emit({ type: 'job-submitted', at: this.ctx.at(), name: step.name, jobId, kind: step.target.kind, fingerprint, resumed: false });
    return video;
  }

  /**
   * The API answered the paid call but named no job: it may well have made
   * (and billed) one, so this is an unknown outcome — and one that sending
   * again would repeat, paying each time. The job is looked for once the way
   * a lost response's is; if it is not found, the target fails, the intent
   * stays in the lock, and the next run looks again before creating anything.
   */
  async acceptedWithoutId(step: TargetStep, fingerprint: Fingerprint, request: JobRequest, intentAt: string): Promise<Video | undefined> {
    const found = await this.reconcile(step.name, request, step.target.seconds, intentAt, 'answer-without-id');
    if (found !== undefined && found !== 'error') return this.accepted(step, fingerprint, request, found);
    // Counted as spent: a budget (watch --max-cost) must not forget a job that may exist.
    this.ctx.cost += step.cost;
    const lockName = path.basename(this.ctx.o.lockPath);
    this.ctx.fail(
      step.name,
      undefined,
      'no-job-id',
      `the API returned a job with no id; it may have been created, so it is not sent again: the request stays in ${lockName} and the next run looks for the job first`,
    );
    return undefined;
  }

  /** One reconciliation at a time, so two identical requests never adopt the same job. */
  reconcile(
    name: TargetName,
    request: JobRequest,
    resultSeconds: number,
    intentAt: string,
    after: JobReconciledEvent['after'],
  ): Promise<Video | undefined | 'error'> {
    const run = async (): Promise<Video | undefined | 'error'> => {
      let found: Video | undefined;
      // Listing is free and safe to repeat: a busy server (429s beyond the
      // SDK's own retries, a 5xx, a reset) gets a few more tries, so one
      // unlucky page does not fail a target that only needed a look.
      for (let attempt = 0; ; attempt++) {
        try {
          found = await findCreatedJob(this.ctx.o.client, { request, resultSeconds, intentAt, claimed: this.ctx.claimed });
          break;
        } catch (e: unknown) {
          const unconnected = connectFailureOf(e);
          if (unconnected !== undefined) this.ctx.markUnreachable(unconnected);
          if (unconnected !== undefined || this.ctx.aborted || attempt >= RECONCILE_LIST_ATTEMPTS - 1) return 'error';
          if (e instanceof APIError && e.status !== undefined && e.status >= 400 && e.status < 500 && ![408, 409, 429].includes(e.status)) return 'error';
          try {
            await sleep(1_000 * 2 ** attempt, this.ctx.o.signal);
          } catch {
            return 'error';
          }
        }
      }
      if (found !== undefined) this.ctx.claimed.add(found.id);
      this.ctx.emit({ type: 'job-reconciled', at: this.ctx.at(), name, jobId: found === undefined ? undefined : jobIdOf(found), after });
      return found;
    };
    const result = this.reconcileChain.then(run, run);
    this.reconcileChain = result;
    return result;
  }

  async recordJob(step: TargetStep, fingerprint: Fingerprint, request: JobRequest, video: Video): Promise<void> {
    const jobId = jobIdOf(video);
    this.ctx.claimed.add(jobId);
    const at = this.ctx.at();
    await this.ctx.writer.update((lock) =>
      withVideo(lock, step.name, {
        ...entryBase(step, fingerprint, at),
        job: jobStateOf(video, request),
        assets: {},
      }),
    );
  }
}
