import { setMaxListeners } from 'node:events';
import path from 'node:path';
import type { CharacterName, TargetName } from '../manifest/manifest.js';
import { sourceTargetOf } from '../manifest/manifest.js';
import type { CharacterId, JobId, Lockfile } from '../lock/lockfile.js';
import { isTerminalStatus } from '../lock/lockfile.js';
import { unreachable } from '../core/unreachable.js';
import type { TargetStep } from '../plan/plan.js';
import { buildJobRequest } from '../plan/job-request.js';
import type { RunSummary } from './events.js';
import { Deferred } from './deferred.js';
import { describeLocalWrite, describeLocalWriteAt, localWriteErrorOf } from '../core/local-write-error.js';
import { RunContext, type RunApplyOptions } from './run-context.js';
import { AssetWriter } from './asset-writer.js';
import { CharacterRunner } from './character-runner.js';
import { JobPoller } from './job-poller.js';
import { JobRunner, type Inputs } from './job-runner.js';
import { forgetObsolete } from '../lock/obsolete-ledger.js';
import { withVideo } from './lock-entries.js';
import { adoptFromCache } from './cache-adoption.js';

export type { RunApplyOptions } from './run-context.js';

export interface ApplyResult {
  readonly summary: RunSummary;
  /** The lockfile as last written. */
  readonly lock: Lockfile;
  readonly failed: readonly TargetName[];
  /** 0 all good, 1 some target failed or was skipped, 130 interrupted. */
  readonly exitCode: number;
}

/**
 * Executes a plan (DESIGN §6): characters first, then targets in dependency
 * order, each derived target starting the moment its source completes.
 * Generation (submit + poll) and downloads have separate concurrency bounds:
 * a generation slot is held only while a job runs at the API (job-runner.ts).
 *
 * Exactly once: before each paid call the intent is written to the lock; the
 * id is written the moment the call returns. A paid call whose outcome is
 * unknown is reconciled against `videos.list` before anything is resent, and
 * so is an intent left by an earlier run.
 */
export async function runApply(options: RunApplyOptions): Promise<ApplyResult> {
  // Every poll, download and back-off of the run listens on the one signal.
  if (options.signal !== undefined) setMaxListeners(0, options.signal);
  return new ApplyRun(options).run();
}

/** The scheduler: characters and targets in dependency order, each through its part. */
class ApplyRun {
  private readonly ctx: RunContext;
  private readonly assets: AssetWriter;
  private readonly jobs: JobRunner;
  private readonly characters: CharacterRunner;
  private readonly ready = new Map<TargetName, Deferred<JobId | undefined>>();
  private readonly charReady = new Map<CharacterName, Deferred<CharacterId | undefined>>();
  /** The ids the plan's fingerprints were computed with: locked, or taken again from the cache. */
  private readonly plannedCharacterIds = new Map<CharacterName, CharacterId>();

  constructor(options: RunApplyOptions) {
    this.ctx = new RunContext(options);
    this.assets = new AssetWriter(this.ctx);
    this.jobs = new JobRunner(this.ctx, this.assets, new JobPoller(this.ctx));
    this.characters = new CharacterRunner(this.ctx, this.charReady);
  }

  async run(): Promise<ApplyResult> {
    const { plan } = this.ctx.o;
    const unsubscribe = this.ctx.o.rateGate?.onRateLimited((retryAfterMs) =>
      this.ctx.emit({ type: 'rate-limited', at: this.ctx.at(), retryAfterMs }),
    );
    this.ctx.emit({ type: 'plan-ready', at: this.ctx.at(), plan });
    const targetSteps = plan.steps.filter((s): s is TargetStep => s.action !== 'orphan');
    for (const s of targetSteps) this.ready.set(s.name, new Deferred());
    for (const c of plan.characters) {
      this.charReady.set(c.name, new Deferred());
      const planned = c.action === 'fetch' ? c.reuses.characterId : c.action === 'unchanged' && c.locked?.job.state === 'created' ? c.locked.job.characterId : undefined;
      if (planned !== undefined) this.plannedCharacterIds.set(c.name, planned);
    }

    try {
      await Promise.all([
        ...plan.characters.map((c) => this.characters.runCharacter(c)),
        ...targetSteps.map((s) => this.runTarget(s)),
      ]);
      await this.saveLock();
    } finally {
      unsubscribe?.();
    }

    const interrupted = this.ctx.aborted;
    if (interrupted) {
      const inFlight: TargetName[] = [];
      for (const name of this.ready.keys()) {
        const job = this.ctx.writer.lock.videos[name]?.job;
        if (job !== undefined && (job.state === 'intent' || !isTerminalStatus(job.status))) inFlight.push(name);
      }
      this.ctx.emit({ type: 'interrupted', at: this.ctx.at(), inFlight, notDownloaded: [...this.ctx.notDownloaded], lockName: path.basename(this.ctx.o.lockPath) });
    }
    const summary: RunSummary = {
      ...this.ctx.counts,
      cost: Math.round(this.ctx.cost * 100) / 100,
      unpriced: this.ctx.unpriced,
      free: this.ctx.o.free === true,
      elapsedMs: Date.now() - this.ctx.startMs,
      interrupted,
    };
    this.ctx.emit({ type: 'run-finished', at: this.ctx.at(), summary });
    const exitCode = interrupted ? 130 : this.ctx.counts.failed + this.ctx.counts.skipped > 0 || this.ctx.lockUnsaved ? 1 : 0;
    return { summary, lock: this.ctx.writer.lock, failed: this.ctx.failed, exitCode };
  }

  /**
   * The run's last write of the lock. One that cannot be written (disk full,
   * read-only, not ours) leaves the lock as last saved, which is consistent:
   * no paid call goes out before its intent is on disk, so the next run
   * reconciles whatever this one could not record. The run fails; the cause
   * is told once (a target that failed on it already told it).
   */
  private async saveLock(): Promise<void> {
    try {
      await this.ctx.writer.flush();
    } catch (e: unknown) {
      const local = localWriteErrorOf(e);
      if (local === undefined) throw e;
      this.ctx.lockUnsaved = true;
      if (this.ctx.localWriteFailed) return;
      const lockName = path.basename(this.ctx.o.lockPath);
      this.ctx.emit({ type: 'warning', at: this.ctx.at(), message: `${describeLocalWriteAt(local, lockName)}; it keeps what was last saved, and the next run picks up from there` });
    }
  }

  private async runTarget(step: TargetStep): Promise<void> {
    const ready = this.readyOf(step.name);
    try {
      await this.execTarget(step, ready);
    } catch (e: unknown) {
      // A file system that refuses writes (disk full, read-only…) while
      // writing the lock or an output ends this target with a clear message;
      // anything else unexpected in one target must not take the others
      // down either, and is reported as its failure (and is a bug).
      const local = localWriteErrorOf(e);
      if (local !== undefined) {
        const where = e instanceof Error && 'path' in e && typeof e.path === 'string' ? e.path : this.ctx.o.manifest.projectDir;
        this.ctx.fail(step.name, undefined, 'write-failed', describeLocalWrite(local, path.basename(where), path.dirname(where)));
      } else {
        this.ctx.fail(step.name, undefined, 'internal-error', e instanceof Error ? e.message : String(e));
      }
    } finally {
      ready.resolve(undefined);
    }
  }

  private async execTarget(step: TargetStep, ready: Deferred<JobId | undefined>): Promise<void> {
    const locked = step.locked;
    if (step.renamedFrom !== undefined && locked !== undefined) {
      // A rename: the old entry (its intent, running job or outputs) is this
      // target's now. Copied first, so every path below and the next run see
      // it under the new name; the old one stays for prune to clear.
      await this.ctx.writer.update((lock) => (lock.videos[step.name] === undefined ? withVideo(lock, step.name, { ...locked, updatedAt: this.ctx.at() }) : lock));
    }
    if (step.fromObsolete !== undefined && locked !== undefined) {
      // An earlier edit's job, on record, is this target's again: its entry
      // replaces the lock's (whose own in-flight job apply-plan.ts put on record first).
      await this.ctx.writer.update((lock) => withVideo(lock, step.name, { ...locked, updatedAt: this.ctx.at() }));
      await forgetObsolete(this.ctx.o.manifest.projectDir, step.fromObsolete);
    }
    switch (step.action) {
      case 'unchanged': {
        const jobId = locked?.job.state === 'job' ? locked.job.jobId : undefined;
        ready.resolve(jobId);
        this.ctx.counts.unchanged++;
        this.ctx.emit({ type: 'target-done', at: this.ctx.at(), name: step.name, outcome: 'unchanged', jobId });
        return;
      }
      case 'fetch': {
        if (step.fromCache !== undefined) {
          await this.adoptCached(step, ready);
          return;
        }
        const job = locked?.job;
        if (job === undefined || job.state !== 'job') {
          this.ctx.fail(step.name, undefined, 'bug', 'fetch without a locked job');
          return;
        }
        ready.resolve(job.jobId);
        const ok = await this.assets.restoreAssets(step, job, step.fingerprint);
        if (ok) {
          this.ctx.counts.fetched++;
          this.ctx.emit({ type: 'target-done', at: this.ctx.at(), name: step.name, outcome: 'fetched', jobId: job.jobId });
        } else this.leftUndownloaded(step.name);
        return;
      }
      case 'failed':
        // Failed before with these inputs (or derives from such a target):
        // not attempted unless asked (--retry-failed, --replace), so it is not paid twice.
        this.ctx.skip(step.name, `not retried: ${step.reason}`);
        return;
      case 'resume':
      case 'create':
      case 'replace':
      case 'retry':
      case 'regenerate': {
        const inputs = await this.resolveInputs(step);
        if (!inputs.ok) {
          this.ctx.skip(step.name, inputs.reason);
          return;
        }
        const outcome = await this.jobs.generate(step, inputs);
        if (outcome.kind === 'interrupted') {
          // A job that exists is paid and still running (the next run resumes
          // it); only a target that never got one was skipped.
          const job = this.ctx.writer.lock.videos[step.name]?.job;
          if (job?.state === 'job' && !isTerminalStatus(job.status)) this.ctx.counts.inFlight++;
          else this.ctx.counts.skipped++;
          return;
        }
        if (outcome.kind === 'failed') return;
        ready.resolve(outcome.jobId);
        if (outcome.fromCache) {
          this.ctx.counts.fetched++;
          this.ctx.emit({ type: 'target-done', at: this.ctx.at(), name: step.name, outcome: 'fetched', jobId: outcome.jobId });
          return;
        }
        const ok = await this.assets.materialize(step, outcome.jobId, outcome.fingerprint, outcome.request, step.target.assets);
        if (!ok) {
          this.leftUndownloaded(step.name);
          return;
        }
        await this.jobs.remote.settled(step.name);
        const resumed = (step.action === 'resume' && !this.ctx.createdThisRun.has(step.name)) || this.ctx.adoptedThisRun.has(step.name);
        if (resumed) this.ctx.counts.resumed++;
        else this.ctx.counts.created++;
        this.ctx.emit({ type: 'target-done', at: this.ctx.at(), name: step.name, outcome: resumed ? 'resumed' : 'created', jobId: outcome.jobId });
        return;
      }
      default:
        unreachable(step.action, 'action');
    }
  }

  /**
   * A download that returned without failing the target was cut short by the
   * interrupt. The job is done and paid for; without this it appeared in no
   * count and no message, and its copy on the API expires within the hour.
   */
  private leftUndownloaded(name: TargetName): void {
    if (!this.ctx.aborted || this.ctx.failed.includes(name) || this.ctx.notDownloaded.includes(name)) return;
    this.ctx.notDownloaded.push(name);
    this.ctx.counts.notDownloaded++;
  }

  /**
   * A `fetch` the planner found in the cache: these exact inputs were paid
   * for before (a reverted prompt, a renamed target). Adopt that job into the
   * lock and restore its assets; no API call. If the cache lost the objects
   * since planning, fail rather than spend money the plan did not show.
   */
  private async adoptCached(step: TargetStep, ready: Deferred<JobId | undefined>): Promise<void> {
    const inputs = await this.resolveInputs(step);
    if (!inputs.ok) {
      this.ctx.skip(step.name, inputs.reason);
      return;
    }
    if (!inputs.charactersAsPlanned) {
      // The character the plan reused was gone from the API and was created
      // again: what the cache holds was made with the old one, and a new job
      // is a cost the plan did not show.
      this.ctx.skip(step.name, 'a character it uses was created again (the one planned for reuse is gone from the API): run vidbuild plan again, its video must be made again');
      return;
    }
    const request = buildJobRequest(step.target, {
      sourceJobId: inputs.sourceJobId,
      uploadSha256: this.jobs.uploadShaOf(step.target),
      characterIds: inputs.characterIds,
    });
    const outcome = await adoptFromCache(this.ctx, this.assets, step, step.fingerprint, request);
    if (outcome === undefined) {
      this.ctx.fail(step.name, step.fromCache?.jobId, 'cache-missing', 'the cached copy planned for restore is gone or corrupt; run vidbuild plan again');
      return;
    }
    if (outcome.kind !== 'completed') return;
    ready.resolve(outcome.jobId);
    this.ctx.counts.fetched++;
    this.ctx.emit({ type: 'target-done', at: this.ctx.at(), name: step.name, outcome: 'fetched', jobId: outcome.jobId });
  }

  /** Waits for the target's source and characters; their ids feed the request. */
  private async resolveInputs(step: TargetStep): Promise<Inputs> {
    const target = step.target;
    let sourceJobId: JobId | undefined;
    const sourceName = sourceTargetOf(target);
    if (sourceName !== undefined) {
      const d = this.ready.get(sourceName);
      if (d !== undefined) {
        sourceJobId = await d.promise;
        if (sourceJobId === undefined) {
          return { ok: false, reason: this.ctx.aborted ? 'interrupted' : `source ${sourceName} did not complete` };
        }
      } else {
        const src = this.ctx.writer.lock.videos[sourceName];
        if (src?.job.state !== 'job' || src.job.status !== 'completed') {
          return { ok: false, reason: `source ${sourceName} has no completed job (apply it first)` };
        }
        sourceJobId = src.job.jobId;
      }
    }
    const characterIds: CharacterId[] = [];
    let charactersAsPlanned = true;
    for (const c of target.characters) {
      const d = this.charReady.get(c);
      let id: CharacterId | undefined;
      if (d !== undefined) id = await d.promise;
      else {
        const lc = this.ctx.writer.lock.characters[c];
        id = lc?.job.state === 'created' ? lc.job.characterId : undefined;
      }
      if (id === undefined) return { ok: false, reason: this.ctx.aborted ? 'interrupted' : `character ${c} was not created` };
      const planned = this.plannedCharacterIds.get(c);
      if (planned !== undefined && planned !== id) charactersAsPlanned = false;
      characterIds.push(id);
    }
    return { ok: true, sourceJobId, characterIds, charactersAsPlanned };
  }

  private readyOf(name: TargetName): Deferred<JobId | undefined> {
    let d = this.ready.get(name);
    if (d === undefined) {
      d = new Deferred();
      this.ready.set(name, d);
    }
    return d;
  }
}
