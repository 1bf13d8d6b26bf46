import { APIError } from 'openai';
import type { Video } from 'openai/resources/videos';
import type { TargetName } from '../manifest/manifest.js';
import type { Fingerprint, JobId, JobRequest } from '../lock/lockfile.js';
import { isJobId } from '../lock/lock-names.js';
import type { TargetStep } from '../plan/plan.js';
import { holderOf, type ListedClaim } from '../remote/claim-record.js';
import { RemoteLock } from '../remote/remote-lock.js';
import type { JobReconciledEvent } from './events.js';
import { supersededBy } from './claimed-jobs.js';
import { CLOCK_SLACK_MS, INTENT_WINDOW_MS } from './reconcile.js';
import type { RunContext } from './run-context.js';
import { jobIdOf } from './lock-entries.js';

/** What the job runner does next, once the shared lock has been asked. */
export type BeforeCreate =
  | { readonly kind: 'create' }
  /** Another runner's job for these inputs: poll and download it like a resumed one; nothing is paid. */
  | { readonly kind: 'adopt'; readonly video: Video }
  | { readonly kind: 'failed' }
  | { readonly kind: 'interrupted' };

type Reconcile = (name: TargetName, request: JobRequest, resultSeconds: number, intentAt: string, after: JobReconciledEvent['after']) => Promise<Video | undefined | 'error'>;

/** Claims that lost their race to a runner that is gone, then to the next one…: bounded. */
const MAX_ROUNDS = 20;

type Next = BeforeCreate | 'again';

/**
 * The shared lock (`remote:`, src/remote/remote-lock.ts) in a paid job's
 * path, for a run with a remote: claim the fingerprint right before the paid
 * call; a claim held elsewhere is waited for and its job adopted instead of
 * paying; a stale one is reconciled against `videos.list` like a local
 * intent, never retaken blindly. The job id goes into the claim the moment
 * the call returns (`afterSubmit`). Without a remote every call is `create`.
 */
export class RemoteClaims {
  private readonly lock: RemoteLock | undefined;
  private readonly held = new Map<TargetName, { claim: ListedClaim; readonly fingerprint: Fingerprint }>();

  constructor(
    private readonly ctx: RunContext,
    private readonly reconcile: Reconcile,
  ) {
    this.lock = ctx.o.remote === undefined ? undefined : new RemoteLock(ctx.o.remote, { windowMs: INTENT_WINDOW_MS + CLOCK_SLACK_MS });
  }

  async beforeCreate(step: TargetStep, fingerprint: Fingerprint, request: JobRequest): Promise<BeforeCreate> {
    const lock = this.lock;
    if (lock === undefined) return { kind: 'create' };
    // The target's own earlier jobs (--replace, a retry, an expired regenerate): a claim naming one is not adopted.
    const superseded = supersededBy(this.ctx.writer.lock.videos[step.name]);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const out = await lock.claim(fingerprint, step.name, { signal: this.ctx.o.signal, superseded });
      let next: Next;
      switch (out.kind) {
        case 'won':
          this.held.set(step.name, { claim: out.held, fingerprint });
          return { kind: 'create' };
        case 'held':
          next = await this.follow(step, request, out.other, superseded);
          break;
        case 'done-elsewhere':
          next = out.jobId !== undefined && isJobId(out.jobId) ? await this.adopt(step, out.jobId, 'the shared cache', undefined) : 'again';
          if (next === 'again') return this.failed(step, 'done-elsewhere', `another runner already generated these inputs and pushed them to ${lock.store.url}; run \`vidbuild apply\` again to restore them from there (nothing was paid)`);
          break;
        case 'contended':
          next = 'again';
          break;
        case 'interrupted':
          return this.interrupted(step);
        case 'error':
          return this.failed(step, 'remote-claim-failed', `could not claim these inputs in ${lock.store.url}: ${out.error.message}; nothing was sent (another runner may be making this job)`);
      }
      if (next !== 'again') return next;
    }
    return this.failed(step, 'remote-claim-failed', `could not claim these inputs in ${lock.store.url}: other runners kept claiming them; nothing was sent`);
  }

  /** The paid call returned (`video`), or did not: write the id into the claim, or withdraw it if nothing can have been sent. */
  async afterSubmit(step: TargetStep, video: Video | undefined): Promise<void> {
    const held = this.held.get(step.name);
    if (held === undefined || this.lock === undefined) return;
    if (video !== undefined) {
      const recorded = await this.lock.recordJob(held.claim, video.id);
      if (recorded.ok) held.claim = { key: held.claim.key, claim: { ...held.claim.claim, jobId: video.id } };
      else this.warn(step.name, `job ${video.id} was created, but its id could not be written to ${this.lock.store.url} (${recorded.error.message}); other runners find it by reconciliation once this run ends`);
      return;
    }
    this.held.delete(step.name);
    // An intent still on disk means the call may have gone out: the claim stays, as the intent does, for reconciliation.
    if (this.ctx.writer.lock.videos[step.name]?.job.state === 'intent') return;
    await this.lock.withdraw(held.claim);
  }

  /**
   * The job completed and its assets are recorded: the claim goes once the
   * shared cache's index has them. Asked after this run's push of them, so a
   * run whose pushes succeed leaves no claims behind; one whose push failed
   * keeps the claim, the only record of which job these inputs made.
   */
  async settled(name: TargetName): Promise<void> {
    const held = this.held.get(name);
    if (held === undefined || this.lock === undefined) return;
    this.held.delete(name);
    await this.ctx.cache.pushed?.(held.fingerprint);
    await this.lock.settle(held.claim, held.fingerprint);
  }

  private async follow(step: TargetStep, request: JobRequest, other: ListedClaim, superseded: readonly JobId[]): Promise<Next> {
    const lock = this.lock;
    if (lock === undefined) return { kind: 'create' };
    let current = other;
    if (current.claim.jobId === undefined) {
      this.ctx.emit({ type: 'remote-claim', at: this.ctx.at(), name: step.name, state: 'waiting', holder: holderOf(current.claim) });
      const waited = await lock.waitForJob(current, this.ctx.o.signal);
      switch (waited.kind) {
        case 'released':
          return 'again';
        case 'interrupted':
          return this.interrupted(step);
        case 'error':
          return this.failed(step, 'remote-claim-failed', `could not follow the claim of ${holderOf(current.claim)} in ${lock.store.url}: ${waited.error.message}; nothing was sent`);
        case 'stale':
          return this.stale(step, request, waited.other, waited.why);
        case 'job':
          current = { key: current.key, claim: waited.claim };
      }
    }
    const jobId = current.claim.jobId;
    if (jobId === undefined || !isJobId(jobId)) return this.failed(step, 'remote-claim-failed', `the claim of ${holderOf(current.claim)} in ${lock.store.url} names no valid job; nothing was sent`);
    if (superseded.includes(jobId)) return this.takeOver(current);
    return this.adopt(step, jobId, holderOf(current.claim), current);
  }

  /**
   * Another runner's job becomes this target's. One that no longer exists
   * here (deleted, or made with another provider) or whose downloads have
   * expired protects nothing: its claim is taken over (the shared cache was
   * asked first, in `claim`).
   */
  private async adopt(step: TargetStep, jobId: JobId, holder: string, claim: ListedClaim | undefined): Promise<Next> {
    let video: Video;
    try {
      video = await this.ctx.o.client.videos.retrieve(jobId, this.ctx.o.signal === undefined ? {} : { signal: this.ctx.o.signal });
    } catch (e: unknown) {
      if (this.ctx.aborted) return this.interrupted(step);
      if (e instanceof APIError && e.status === 404 && claim !== undefined) return this.takeOver(claim);
      return this.failed(step, 'adopt-failed', `could not look up job ${jobId} made by ${holder}: ${e instanceof Error ? e.message : String(e)}; nothing was sent`);
    }
    const expired = video.status === 'completed' && video.expires_at !== null && video.expires_at * 1000 < this.ctx.now().getTime();
    if (expired && claim !== undefined) return this.takeOver(claim);
    this.ctx.adoptedThisRun.add(step.name);
    this.ctx.emit({ type: 'remote-claim', at: this.ctx.at(), name: step.name, state: 'adopted', holder, jobId });
    return { kind: 'adopt', video };
  }

  /** A claim without a job whose runner is gone: its job may exist, so look for it before anything is created. */
  private async stale(step: TargetStep, request: JobRequest, other: ListedClaim, why: 'holder-dead' | 'expired'): Promise<Next> {
    const lock = this.lock;
    if (lock === undefined) return { kind: 'create' };
    this.ctx.emit({ type: 'remote-claim', at: this.ctx.at(), name: step.name, state: 'stale', holder: holderOf(other.claim), why });
    const found = await this.reconcile(step.name, request, step.target.seconds, other.claim.createdAt, 'interrupted-run');
    if (found === 'error') return this.failed(step, 'reconcile-failed', `could not list videos to check for a job made by ${holderOf(other.claim)}, whose claim is stale; nothing was sent, try again`);
    if (found === undefined) return this.takeOver(other);
    // Written into the stale claim first, so every other waiter adopts it too.
    const written = await lock.adoptStale(other, found.id);
    if (!written.ok) return this.failed(step, 'remote-claim-failed', `found job ${found.id} made by ${holderOf(other.claim)}, but could not record it in ${lock.store.url}: ${written.error.message}`);
    this.ctx.adoptedThisRun.add(step.name);
    this.ctx.emit({ type: 'remote-claim', at: this.ctx.at(), name: step.name, state: 'adopted', holder: holderOf(other.claim), jobId: jobIdOf(found) });
    return { kind: 'adopt', video: found };
  }

  private async takeOver(other: ListedClaim): Promise<Next> {
    const lock = this.lock;
    if (lock === undefined) return { kind: 'create' };
    await lock.takeOver(other);
    return 'again';
  }

  private failed(step: TargetStep, code: string, message: string): BeforeCreate {
    this.ctx.fail(step.name, undefined, code, message);
    return { kind: 'failed' };
  }

  private interrupted(step: TargetStep): BeforeCreate {
    this.ctx.emit({ type: 'job-skipped', at: this.ctx.at(), name: step.name, reason: 'interrupted' });
    return { kind: 'interrupted' };
  }

  private warn(name: TargetName, message: string): void {
    this.ctx.emit({ type: 'warning', at: this.ctx.at(), name, message });
  }
}
