import type { Video } from 'openai/resources/videos';
import type { Target } from '../manifest/manifest.js';
import { referencedFilesOf } from '../manifest/manifest.js';
import type { CharacterId, Fingerprint, JobId, JobRequest, Sha256 } from '../lock/lockfile.js';
import type { TargetStep } from '../plan/plan.js';
import { fingerprintTarget } from '../plan/fingerprint.js';
import { buildJobRequest } from '../plan/job-request.js';
import { CLOCK_SLACK_MS } from './reconcile.js';
import { RunContext } from './run-context.js';
import { jobIdOf } from './lock-entries.js';
import { AssetWriter } from './asset-writer.js';
import { JobPoller, type PollOutcome } from './job-poller.js';
import { JobReconciler } from './job-reconciler.js';
import { PaidCall, type SentJob, type WrittenIntent } from './paid-call.js';
import { adoptFromCache } from './cache-adoption.js';
import { RemoteClaims, type BeforeCreate } from './remote-claim-step.js';


export type GenOutcome =
  | { readonly kind: 'completed'; readonly jobId: JobId; readonly fingerprint: Fingerprint; readonly video: Video | undefined; readonly request: JobRequest; readonly fromCache: boolean }
  | { readonly kind: 'failed' }
  | { readonly kind: 'interrupted' };

/** Source / character resolution for a target about to run. */
export type Inputs =
  | {
      readonly ok: true;
      readonly sourceJobId: JobId | undefined;
      readonly characterIds: readonly CharacterId[];
      /**
       * False when a character the plan counted on by id (locked, or taken
       * again from the cache) got another id in this run: the step's
       * fingerprint was computed with the old one.
       */
      readonly charactersAsPlanned: boolean;
    }
  | { readonly ok: false; readonly reason: string };

/**
 * What a target needs once it has a generation slot: a job that exists
 * (resumed, or found by reconciling an earlier intent) to poll, or an
 * intent on disk to send; or nothing, because it ended before (the cache
 * had it, it failed, or the run was interrupted).
 */
type Staged =
  | { readonly kind: 'ended'; readonly outcome: GenOutcome }
  | { readonly kind: 'poll'; readonly jobId: JobId; readonly fingerprint: Fingerprint; readonly request: JobRequest; readonly video: Video | undefined }
  | { readonly kind: 'send'; readonly intent: WrittenIntent };

/**
 * One target's paid job, exactly once: reuse from the cache, resume or
 * reconcile an earlier run's, or write the intent, send, and write the id
 * the moment it returns (paid-call.ts); then poll it to the end
 * (job-poller.ts).
 *
 * A generation slot stands for a job running at the API. Everything before
 * the paid call that needs no slot (the cache, reconciling an earlier
 * intent, writing the intent to disk) is done while the slot is still
 * taken by the job before, in a stage bounded as the slots are; so when a
 * job is seen completed, the next paid call goes out at once instead of
 * after a lock write.
 */
export class JobRunner {
  private readonly reconciler: JobReconciler;
  private readonly paid: PaidCall;
  /** The shared lock before each paid call, when the run has a remote. */
  readonly remote: RemoteClaims;

  constructor(
    private readonly ctx: RunContext,
    private readonly assets: AssetWriter,
    private readonly poller: JobPoller,
  ) {
    this.reconciler = new JobReconciler(ctx);
    this.paid = new PaidCall(ctx, this.reconciler);
    this.remote = new RemoteClaims(ctx, (...args) => this.reconciler.reconcile(...args));
  }

  /** Stage, then take a generation slot (freeing the stage slot the moment it is taken) and run there. */
  async generate(step: TargetStep, inputs: Inputs & { ok: true }): Promise<GenOutcome> {
    const staged = await this.ctx.stage(async () => {
      const next = await this.prepare(step, inputs);
      if (next.kind === 'ended') return { outcome: next.outcome };
      let taken!: () => void;
      const slotTaken = new Promise<void>((resolve) => (taken = resolve));
      const running = this.ctx.gen(() => {
        taken();
        return this.inSlot(step, next);
      });
      await slotTaken;
      return { running };
    });
    return staged.outcome ?? staged.running;
  }

  /** Everything before the paid call that holds no slot at the API. */
  private async prepare(step: TargetStep, inputs: Inputs & { ok: true }): Promise<Staged> {
    if (this.ctx.aborted) return this.interrupted(step);
    const target = step.target;
    const locked = this.ctx.writer.lock.videos[step.name];

    // A job from an earlier run that already has an id: never recreate, poll it.
    if (step.action === 'resume' && locked?.job.state === 'job') {
      const job = locked.job;
      this.ctx.emit({ type: 'job-submitted', at: this.ctx.at(), name: step.name, jobId: job.jobId, kind: target.kind, fingerprint: locked.fingerprint, resumed: true });
      return { kind: 'poll', jobId: job.jobId, fingerprint: locked.fingerprint, request: job.request, video: undefined };
    }
    const earlierIntent = step.action === 'resume' && locked?.job.state === 'intent' ? locked.job : undefined;
    const request =
      earlierIntent !== undefined
        ? earlierIntent.request
        : buildJobRequest(target, { sourceJobId: inputs.sourceJobId, uploadSha256: this.uploadShaOf(target), characterIds: inputs.characterIds });
    const fingerprint =
      step.action === 'resume' && locked !== undefined ? locked.fingerprint : step.provisional || !inputs.charactersAsPlanned ? this.recomputeFingerprint(target, inputs) : step.fingerprint;

    // An intent left by an earlier run: the job may exist already.
    if (earlierIntent !== undefined) {
      const found = await this.reconciler.reconcile(step.name, request, target.seconds, earlierIntent.intentAt, 'interrupted-run');
      if (found === 'error') {
        const why = this.ctx.unreachable === undefined ? '' : ` (${this.ctx.unreachable})`;
        this.ctx.fail(step.name, undefined, 'reconcile-failed', `could not list videos to check for a job created by the interrupted run${why}; the intent is kept, try again`);
        return { kind: 'ended', outcome: { kind: 'failed' } };
      }
      if (found !== undefined) {
        await this.paid.recordJob(step, fingerprint, request, found);
        this.ctx.emit({ type: 'job-submitted', at: this.ctx.at(), name: step.name, jobId: jobIdOf(found), kind: target.kind, fingerprint, resumed: true });
        return { kind: 'poll', jobId: jobIdOf(found), fingerprint, request, video: found };
      }
    }

    // The same inputs were generated before (a reverted prompt, a renamed
    // target): restore from the cache instead of paying again.
    // Except when the user forced a new job with --replace: that is the point of it.
    const forced = step.action === 'replace' && step.changes.includes('--replace');
    const cached = forced ? undefined : await adoptFromCache(this.ctx, this.assets, step, fingerprint, request);
    if (cached !== undefined) {
      const outcome: GenOutcome = cached.kind === 'completed' ? { kind: 'completed', jobId: cached.jobId, fingerprint, video: undefined, request, fromCache: true } : cached;
      return { kind: 'ended', outcome };
    }

    if (this.ctx.o.frozen === true) {
      this.ctx.fail(step.name, undefined, 'frozen', `needs a new job (${step.reason}); --frozen never creates jobs`);
      return { kind: 'ended', outcome: { kind: 'failed' } };
    }
    if (this.ctx.unreachable !== undefined) {
      this.ctx.skip(step.name, `not sent: ${this.ctx.unreachable}`);
      return { kind: 'ended', outcome: { kind: 'failed' } };
    }
    // Sent again after reconciling found nothing: the old time while a job of
    // the first call could still appear within its window, else a fresh one,
    // so that the window covers this call.
    const intentAt =
      earlierIntent !== undefined && this.ctx.now().getTime() - Date.parse(earlierIntent.intentAt) <= CLOCK_SLACK_MS ? earlierIntent.intentAt : this.ctx.at();
    return { kind: 'send', intent: await this.paid.writeIntent(step, fingerprint, request, intentAt) };
  }

  /** In a generation slot: send the paid call (unless interrupted meanwhile) and poll the job to its end. */
  private async inSlot(step: TargetStep, staged: Staged & { kind: 'poll' | 'send' }): Promise<GenOutcome> {
    if (staged.kind === 'poll') {
      const polled = await this.poller.poll(step.name, staged.jobId, staged.fingerprint, staged.request, undefined, staged.video);
      return this.afterPoll(polled, staged.jobId, staged.fingerprint, staged.request);
    }
    const { intent } = staged;
    if (this.ctx.aborted) {
      // Written ahead, never sent: the lock gets back what it had.
      await this.paid.withdraw(intent, intent.maybeSent);
      return this.interrupted(step).outcome;
    }
    // Another machine may be making (or have made) this very job: ask the
    // shared lock first, in the slot, so a claim is never held while waiting for one.
    // From here to the API's answer, downloads wait (send-priority.ts).
    const sending = this.ctx.sends.begin();
    let claim: BeforeCreate;
    let sent: SentJob | undefined;
    try {
      claim = await this.remote.beforeCreate(step, intent.fingerprint, intent.request);
      if (claim.kind === 'create') sent = await this.paid.send(intent);
    } finally {
      sending();
    }
    if (claim.kind === 'adopt') return this.pollFound(step, intent.fingerprint, intent.request, claim.video);
    if (claim.kind !== 'create') {
      await this.paid.withdraw(intent, intent.maybeSent);
      return { kind: claim.kind };
    }
    await this.remote.afterSubmit(step, sent?.video);
    if (sent === undefined) return { kind: 'failed' };
    this.ctx.createdThisRun.add(step.name);
    const jobId = jobIdOf(sent.video);
    const polled = await this.poller.poll(step.name, jobId, intent.fingerprint, intent.request, sent.sentAtMs, sent.video);
    return this.afterPoll(polled, jobId, intent.fingerprint, intent.request);
  }

  /** A job this run did not create (another runner's): recorded over the intent, then polled like a resumed one. */
  private async pollFound(step: TargetStep, fingerprint: Fingerprint, request: JobRequest, found: Video): Promise<GenOutcome> {
    await this.paid.recordJob(step, fingerprint, request, found);
    this.ctx.emit({ type: 'job-submitted', at: this.ctx.at(), name: step.name, jobId: jobIdOf(found), kind: step.target.kind, fingerprint, resumed: true });
    const polled = await this.poller.poll(step.name, jobIdOf(found), fingerprint, request, undefined, found);
    return this.afterPoll(polled, jobIdOf(found), fingerprint, request);
  }

  private interrupted(step: TargetStep): Staged & { kind: 'ended' } {
    this.ctx.emit({ type: 'job-skipped', at: this.ctx.at(), name: step.name, reason: 'interrupted' });
    return { kind: 'ended', outcome: { kind: 'interrupted' } };
  }

  private afterPoll(polled: PollOutcome, jobId: JobId, fingerprint: Fingerprint, request: JobRequest): GenOutcome {
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

  private recomputeFingerprint(target: Target, inputs: Inputs & { ok: true }): Fingerprint {
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
}
