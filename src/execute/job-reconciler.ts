import { APIError } from 'openai';
import type { Video } from 'openai/resources/videos';
import type { TargetName } from '../manifest/manifest.js';
import type { JobRequest } from '../lock/lockfile.js';
import type { JobReconciledEvent } from './events.js';
import { sleep } from './rate-gate.js';
import { connectFailureOf } from './classify-error.js';
import { findCreatedJob } from './reconcile.js';
import { RunContext } from './run-context.js';
import { jobIdOf } from './lock-entries.js';

/** Tries of the (free) `videos.list` walk when reconciling an intent. */
export const RECONCILE_LIST_ATTEMPTS = 3;

/**
 * Which job an intent made, if any: a walk of `videos.list` for a job with
 * the intent's request, created in its window and owned by no lock entry.
 * One reconciliation at a time, so two identical requests never adopt the
 * same job.
 */
export class JobReconciler {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly ctx: RunContext) {}

  reconcile(
    name: TargetName,
    request: JobRequest,
    resultSeconds: number,
    intentAt: string,
    after: JobReconciledEvent['after'],
  ): Promise<Video | undefined | 'error'> {
    const run = async (): Promise<Video | undefined | 'error'> => {
      const found = await this.findWithRetries(request, resultSeconds, intentAt);
      if (found === 'error') return found;
      if (found !== undefined) this.ctx.claimed.add(found.id);
      this.ctx.emit({ type: 'job-reconciled', at: this.ctx.at(), name, jobId: found === undefined ? undefined : jobIdOf(found), after });
      return found;
    };
    const result = this.chain.then(run, run);
    this.chain = result;
    return result;
  }

  /**
   * Listing is free and safe to repeat: a busy server (429s beyond the
   * SDK's own retries, a 5xx, a reset) gets a few more tries, so one unlucky
   * page does not fail a target that only needed a look.
   */
  private async findWithRetries(request: JobRequest, resultSeconds: number, intentAt: string): Promise<Video | undefined | 'error'> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await findCreatedJob(this.ctx.o.client, { request, resultSeconds, intentAt, claimed: this.ctx.claimed });
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
  }
}
