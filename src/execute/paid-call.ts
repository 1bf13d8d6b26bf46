import path from 'node:path';
import type { Video } from 'openai/resources/videos';
import { sourceTargetOf } from '../manifest/manifest.js';
import type { Fingerprint, JobRequest, LockedTarget } from '../lock/lockfile.js';
import { isJobId } from '../lock/lock-names.js';
import type { TargetStep } from '../plan/plan.js';
import { sleep } from './rate-gate.js';
import { classifyCallError } from './classify-error.js';
import { sendJob } from './send-job.js';
import { supersededBy } from './claimed-jobs.js';
import { describeLocalWrite, localWriteErrorOf } from '../core/local-write-error.js';
import { missingInputsOf, type MissingInputs } from './missing-inputs.js';
import { RunContext } from './run-context.js';
import { entryBase, jobIdOf, jobStateOf, withVideo } from './lock-entries.js';
import type { JobReconciler } from './job-reconciler.js';

export const MAX_SUBMIT_ATTEMPTS = 6;
/**
 * A 429 is a refusal before anything was accepted, so sending again is safe,
 * and each one first waits the server's retry-after on the shared gate. It
 * does not use up one of the attempts above: under an RPM window every
 * request that waited on the gate goes out when it opens and most meet
 * another 429, so six of them in a row was a target failed for no reason
 * (3 of 200 at --rpm 350). Still bounded: a 429 that never clears (an
 * exhausted quota) fails the target after this many.
 */
export const MAX_RATE_LIMITED_SENDS = 20;

/**
 * A paid call whose intent is on disk, waiting to be sent. `previous` is the
 * entry the intent replaced (put back when nothing was sent); `maybeSent`
 * says whether an earlier attempt for this intent may have reached the
 * server, in which case the intent must outlive any failure.
 */
export interface WrittenIntent {
  readonly step: TargetStep;
  readonly fingerprint: Fingerprint;
  readonly request: JobRequest;
  readonly intentAt: string;
  readonly previous: LockedTarget | undefined;
  readonly maybeSent: boolean;
}

/** The API accepted the job; `sentAtMs` is when the call that made it went out (the job's clock starts there). */
export interface SentJob {
  readonly video: Video;
  readonly sentAtMs: number;
}

/**
 * The paid call, exactly once: intent on disk (`writeIntent`) → call with
 * no SDK retries (`send`) → id on disk (`accepted`). A 429 waits on the
 * shared gate and sends again (the server accepted nothing); an unknown
 * outcome is reconciled before resending; a refusal fails the target.
 */
export class PaidCall {
  constructor(
    private readonly ctx: RunContext,
    private readonly reconciler: JobReconciler,
  ) {}

  async writeIntent(step: TargetStep, fingerprint: Fingerprint, request: JobRequest, intentAt: string): Promise<WrittenIntent> {
    const previous = this.ctx.writer.lock.videos[step.name];
    const supersedes = supersededBy(previous);
    await this.ctx.writer.update((lock) =>
      withVideo(lock, step.name, {
        ...entryBase(step, fingerprint, this.ctx.at()),
        job: { state: 'intent', intentAt, request, ...(supersedes.length === 0 ? {} : { supersedes }) },
        assets: {},
      }),
    );
    this.ctx.emit({ type: 'job-intent', at: this.ctx.at(), name: step.name, kind: step.target.kind, fingerprint });
    return { step, fingerprint, request, intentAt, previous, maybeSent: step.action === 'resume' && previous?.job.state === 'intent' };
  }

  /** Puts back the entry an intent replaced, unless the call may have reached the server. */
  async withdraw(intent: WrittenIntent, maybeSent: boolean): Promise<void> {
    if (!maybeSent) await this.ctx.writer.update((lock) => withVideo(lock, intent.step.name, intent.previous));
  }

  async send(intent: WrittenIntent): Promise<SentJob | undefined> {
    const { step, fingerprint, request, intentAt } = intent;
    let lastMessage = '';
    let maybeSent = intent.maybeSent;
    let rateLimited = 0;
    for (let attempt = 0; attempt < MAX_SUBMIT_ATTEMPTS; attempt++) {
      if (this.ctx.unreachable !== undefined) {
        await this.withdraw(intent, maybeSent);
        this.ctx.skip(step.name, `not sent: ${this.ctx.unreachable}`);
        return undefined;
      }
      let video: Video;
      const sentAtMs = Date.now();
      try {
        video = await sendJob({ client: this.ctx.o.client, projectDir: this.ctx.o.manifest.projectDir }, step.target, request);
      } catch (e: unknown) {
        const f = classifyCallError(e);
        lastMessage = f.message;
        switch (f.kind) {
          case 'rate-limited':
            // The gate (closed by the client's fetch) holds every request back; just wait for it.
            await this.ctx.o.rateGate?.wait();
            if (++rateLimited < MAX_RATE_LIMITED_SENDS) attempt--;
            continue;
          case 'refused': {
            await this.withdraw(intent, false);
            this.ctx.fail(step.name, undefined, f.code, await this.explainRefusal(step, request, f));
            return undefined;
          }
          case 'not-sent': {
            // No connection, so nothing was sent or billed: fail now instead of
            // spinning through reconcile rounds against a server that is not there.
            // The intent goes only if no earlier attempt may have reached the server.
            await this.withdraw(intent, maybeSent);
            this.ctx.markUnreachable(f);
            this.ctx.fail(step.name, undefined, 'connection-failed', `${this.ctx.unreachable ?? f.message}; nothing was sent`);
            return undefined;
          }
          case 'unknown': {
            maybeSent = true;
            // Give the server a moment to make the job visible, then look for it.
            await sleep(Math.min(500 * 2 ** attempt, 8_000)).catch(() => undefined);
            const found = await this.reconciler.reconcile(step.name, request, step.target.seconds, intentAt, 'lost-response');
            if (found === 'error') continue;
            if (found !== undefined) return this.sent(await this.accepted(step, fingerprint, request, found), sentAtMs);
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
      return this.sent(await this.accepted(step, fingerprint, request, video), sentAtMs);
    }
    // The intent stays in the lock: the next run reconciles before creating.
    this.ctx.fail(step.name, undefined, 'submit-failed', `could not submit the job: ${lastMessage}`);
    return undefined;
  }

  private sent(video: Video | undefined, sentAtMs: number): SentJob | undefined {
    return video === undefined ? undefined : { video, sentAtMs };
  }

  /**
   * The API accepted the job (or reconciliation found it): it is paid for
   * from here on. Save its id; if the lock cannot be written (disk full,
   * read-only), the target fails without another paid call, and the intent
   * already on disk lets the next run adopt this job through reconciliation.
   */
  private async accepted(step: TargetStep, fingerprint: Fingerprint, request: JobRequest, video: Video): Promise<Video | undefined> {
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
  private async acceptedWithoutId(step: TargetStep, fingerprint: Fingerprint, request: JobRequest, intentAt: string): Promise<SentJob | undefined> {
    const sentAtMs = Date.now();
    const found = await this.reconciler.reconcile(step.name, request, step.target.seconds, intentAt, 'answer-without-id');
    if (found !== undefined && found !== 'error') return this.sent(await this.accepted(step, fingerprint, request, found), sentAtMs);
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

  /**
   * A refusal because a locked id no longer exists server-side would repeat
   * on every run. Say which one and how to get out: a source job that is
   * gone needs its target generated again (a paid choice, so the user makes
   * it with --replace); a character that is gone leaves videos.lock, so the
   * next plan creates it again and shows what that costs.
   */
  private async explainRefusal(step: TargetStep, request: JobRequest, f: { readonly status: number; readonly code: string; readonly message: string }): Promise<string> {
    if (f.status !== 400 && f.status !== 404 && f.status !== 422) return f.message;
    if (request.sourceJobId === undefined && (request.characterIds ?? []).length === 0) return f.message;
    let missing: MissingInputs;
    try {
      missing = await missingInputsOf(this.ctx.o.client, request);
    } catch {
      return f.message;
    }
    const parts = [f.message.replace(/\.$/, '')];
    const where = this.ctx.o.client.baseURL;
    const sourceName = sourceTargetOf(step.target);
    if (missing.sourceJobId !== undefined && sourceName !== undefined) {
      parts.push(
        `source ${sourceName}'s job ${missing.sourceJobId} no longer exists at ${where} (deleted, or made with another provider); run \`vidbuild apply --replace ${sourceName}\` to generate it again`,
      );
    }
    for (const id of missing.characterIds) {
      // Dropping a character re-creates it and replaces every video that uses
      // it: only when the refusal itself is about characters, not merely
      // because a provider without GET /videos/characters/{id} answers 404.
      if (!f.message.includes(id) && !/character/i.test(`${f.code} ${f.message}`)) continue;
      const name = step.target.characters.find((n) => {
        const job = this.ctx.writer.lock.characters[n]?.job;
        return job?.state === 'created' && job.characterId === id;
      });
      if (name === undefined) continue;
      const fileSha256 = this.ctx.writer.lock.characters[name]?.fileSha256;
      // Nor may the next plan count on taking it again from the cache.
      if (fileSha256 !== undefined) await this.ctx.cache.forgetCharacter(name, fileSha256, id).catch(() => undefined);
      await this.ctx.writer.update((lock) => {
        const job = lock.characters[name]?.job;
        if (job?.state !== 'created' || job.characterId !== id) return lock;
        const characters = { ...lock.characters };
        delete characters[name];
        return { ...lock, characters };
      });
      parts.push(`character ${name} (${id}) no longer exists at ${where}; it was removed from ${path.basename(this.ctx.o.lockPath)}, so the next run creates it again`);
    }
    return parts.join('; ');
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
