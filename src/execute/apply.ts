import { setMaxListeners } from 'node:events';
import path from 'node:path';
import type OpenAI from 'openai';
import { APIError, APIUserAbortError } from 'openai';
import type { Video } from 'openai/resources/videos';
import pLimit, { type LimitFunction } from 'p-limit';
import type { AssetVariant, CharacterName, Manifest, ProjectPath, Target, TargetName } from '../manifest/manifest.js';
import { referencedFilesOf, sourceTargetOf } from '../manifest/manifest.js';
import type {
  CharacterId,
  Fingerprint,
  JobId,
  JobRequest,
  JobState,
  LockedAsset,
  LockedTarget,
  Lockfile,
  Sha256,
} from '../lock/lockfile.js';
import { isTerminalStatus } from '../lock/lockfile.js';
import { unreachable } from '../core/unreachable.js';
import { isCharacterId, isJobId } from '../lock/lock-names.js';
import type { CharacterStep, Plan, TargetStep } from '../plan/plan.js';
import { fingerprintTarget } from '../plan/fingerprint.js';
import { buildJobRequest } from '../plan/job-request.js';
import type { ExecEvent, JobReconciledEvent, RunSummary } from './events.js';
import { LockWriter } from './lock-writer.js';
import { RateGate, sleep } from './rate-gate.js';
import { DurationStats, nextPollDelay, type PollSample } from './poll-interval.js';
import { classifyCallError, connectFailureOf } from './classify-error.js';
import { readUpload, sendJob } from './send-job.js';
import { CLOCK_SLACK_MS, findCreatedJob } from './reconcile.js';
import { claimedJobIds, supersededBy } from './claimed-jobs.js';
import { lockRecordsOutput, overwriteGuard, type OverwriteGuard } from './overwrite-guard.js';
import { downloadAsset } from './download-asset.js';
import { outputPathInside } from './output-path.js';
import { Deferred } from './deferred.js';
import { NO_CACHE, type AssetCache, type CacheRecord } from './asset-cache.js';
import { describeLocalWrite, describeLocalWriteAt, localWriteErrorOf } from '../core/local-write-error.js';
import { missingInputsOf, type MissingInputs } from './missing-inputs.js';

/**
 * What runApply needs. The caller (cli/commands/apply.ts, watch) has already
 * loaded the manifest, read the lockfile, planned, asked for confirmation and
 * taken the run lock; runApply only executes.
 */
export interface RunApplyOptions {
  readonly manifest: Manifest;
  readonly plan: Plan;
  /** The lockfile the plan was made against; runApply writes updates of it to `lockPath`. */
  readonly lock: Lockfile;
  readonly lockPath: string;
  /** An SDK client for the chosen backend (backend/create-backend.ts). */
  readonly client: OpenAI;
  /** sha256 of the referenced files (`DiskFacts.fileHashes`), for uploads and recomputed fingerprints. */
  readonly fileHashes: ReadonlyMap<ProjectPath, Sha256>;
  /** The content-addressed cache (default: none). */
  readonly cache?: AssetCache;
  /** The backend's shared 429 gate, to report `rate-limited` events (the gate itself lives in the client's fetch). */
  readonly rateGate?: RateGate;
  /** Generation jobs at once (default 4). */
  readonly concurrency?: number;
  /** Downloads at once (default 4). */
  readonly downloadConcurrency?: number;
  /** Never submit paid jobs; paid steps fail with code `frozen`. */
  readonly frozen?: boolean;
  /** Move aside a file in an output's place that vidbuild did not write, instead of failing the target. */
  readonly force?: boolean;
  /** Bounds for the adaptive poll interval, ms (defaults suit the real API: 2 s .. 15 s). */
  readonly pollMinMs?: number;
  readonly pollMaxMs?: number;
  /**
   * Abort = stop starting new jobs and return promptly. Paid calls already
   * on the wire are allowed to finish so their ids are saved; jobs in flight
   * are left for the next run to resume.
   */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: ExecEvent) => void;
  readonly now?: () => Date;
  /** The backend bills nothing (the emulator); carried into the summary so it is not read as money spent. */
  readonly free?: boolean;
}

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
 * Generation (submit + poll) and downloads have separate concurrency bounds.
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

type GenOutcome =
  | { readonly kind: 'completed'; readonly jobId: JobId; readonly fingerprint: Fingerprint; readonly video: Video | undefined; readonly request: JobRequest; readonly fromCache: boolean }
  | { readonly kind: 'failed' }
  | { readonly kind: 'interrupted' };

type PollOutcome =
  | { readonly kind: 'completed'; readonly video: Video }
  | { readonly kind: 'failed' }
  | { readonly kind: 'interrupted' };

/** Source / character resolution for a target about to run. */
type Inputs =
  | { readonly ok: true; readonly sourceJobId: JobId | undefined; readonly characterIds: readonly CharacterId[] }
  | { readonly ok: false; readonly reason: string };

const MAX_SUBMIT_ATTEMPTS = 6;
const MAX_POLL_ERRORS = 8;
/** Tries of the (free) `videos.list` walk when reconciling an intent. */
const RECONCILE_LIST_ATTEMPTS = 3;
const MAX_POLL_CONNECT_ERRORS = 3;

class ApplyRun {
  private readonly o: RunApplyOptions;
  private readonly writer: LockWriter;
  private readonly cache: AssetCache;
  private readonly gen: LimitFunction;
  private readonly dl: LimitFunction;
  private readonly now: () => Date;
  private readonly startMs: number;
  private readonly durations = new DurationStats();
  private readonly ready = new Map<TargetName, Deferred<JobId | undefined>>();
  private readonly charReady = new Map<CharacterName, Deferred<CharacterId | undefined>>();
  /** Job ids owned by some lock entry; reconciliation never adopts one of these. */
  private readonly claimed = new Set<string>();
  /** Every output write asks it first: only files vidbuild wrote are replaced. */
  private readonly guard: OverwriteGuard;
  private reconcileChain: Promise<unknown> = Promise.resolve();
  private readonly failed: TargetName[] = [];
  private counts = { created: 0, resumed: 0, fetched: 0, unchanged: 0, failed: 0, skipped: 0, inFlight: 0, notDownloaded: 0 };
  /** Completed jobs whose downloads the interrupt cut short (see `leftUndownloaded`). */
  private readonly notDownloaded: TargetName[] = [];
  private cost = 0;
  /** A target or character failed on a local write error (its message named the file and cause). */
  private localWriteFailed = false;
  /** The lock's last write failed: the run cannot succeed. */
  private lockUnsaved = false;
  /** Paid jobs submitted without a known price: counted, since they are not $0. */
  private unpriced = 0;

  constructor(options: RunApplyOptions) {
    this.o = options;
    this.writer = new LockWriter(options.lockPath, options.lock);
    this.cache = options.cache ?? NO_CACHE;
    this.gen = pLimit(Math.max(1, options.concurrency ?? options.manifest.concurrency ?? 4));
    this.dl = pLimit(Math.max(1, options.downloadConcurrency ?? 4));
    this.now = options.now ?? (() => new Date());
    this.startMs = Date.now();
    for (const id of claimedJobIds(options.lock)) this.claimed.add(id);
    this.guard = overwriteGuard({
      projectDir: options.manifest.projectDir,
      recorded: (rel, sha) => lockRecordsOutput(options.lock, rel, sha) || lockRecordsOutput(this.writer.lock, rel, sha),
      force: options.force === true,
      onMovedAside: (rel, aside) => this.emit({ type: 'warning', at: this.at(), message: `moved ${rel} aside to ${aside}: vidbuild did not write it (--force)` }),
    });
  }

  private get aborted(): boolean {
    return this.o.signal?.aborted === true;
  }

  private emit(event: ExecEvent): void {
    this.o.onEvent?.(event);
  }

  private at(): string {
    return this.now().toISOString();
  }

  async run(): Promise<ApplyResult> {
    const { plan } = this.o;
    const unsubscribe = this.o.rateGate?.onRateLimited((retryAfterMs) =>
      this.emit({ type: 'rate-limited', at: this.at(), retryAfterMs }),
    );
    this.emit({ type: 'plan-ready', at: this.at(), plan });
    const targetSteps = plan.steps.filter((s): s is TargetStep => s.action !== 'orphan');
    for (const s of targetSteps) this.ready.set(s.name, new Deferred());
    for (const c of plan.characters) this.charReady.set(c.name, new Deferred());

    try {
      await Promise.all([
        ...plan.characters.map((c) => this.runCharacter(c)),
        ...targetSteps.map((s) => this.runTarget(s)),
      ]);
      await this.saveLock();
    } finally {
      unsubscribe?.();
    }

    const interrupted = this.aborted;
    if (interrupted) {
      const inFlight: TargetName[] = [];
      for (const name of this.ready.keys()) {
        const job = this.writer.lock.videos[name]?.job;
        if (job !== undefined && (job.state === 'intent' || !isTerminalStatus(job.status))) inFlight.push(name);
      }
      this.emit({ type: 'interrupted', at: this.at(), inFlight, notDownloaded: [...this.notDownloaded], lockName: path.basename(this.o.lockPath) });
    }
    const summary: RunSummary = {
      ...this.counts,
      cost: Math.round(this.cost * 100) / 100,
      unpriced: this.unpriced,
      free: this.o.free === true,
      elapsedMs: Date.now() - this.startMs,
      interrupted,
    };
    this.emit({ type: 'run-finished', at: this.at(), summary });
    const exitCode = interrupted ? 130 : this.counts.failed + this.counts.skipped > 0 || this.lockUnsaved ? 1 : 0;
    return { summary, lock: this.writer.lock, failed: this.failed, exitCode };
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
      await this.writer.flush();
    } catch (e: unknown) {
      const local = localWriteErrorOf(e);
      if (local === undefined) throw e;
      this.lockUnsaved = true;
      if (this.localWriteFailed) return;
      const lockName = path.basename(this.o.lockPath);
      this.emit({ type: 'warning', at: this.at(), message: `${describeLocalWriteAt(local, lockName)}; it keeps what was last saved, and the next run picks up from there` });
    }
  }

  // ---------------------------------------------------------------- targets

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
        const where = e instanceof Error && 'path' in e && typeof e.path === 'string' ? e.path : this.o.manifest.projectDir;
        this.fail(step.name, undefined, 'write-failed', describeLocalWrite(local, path.basename(where), path.dirname(where)));
      } else {
        this.fail(step.name, undefined, 'internal-error', e instanceof Error ? e.message : String(e));
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
      await this.writer.update((lock) => (lock.videos[step.name] === undefined ? withVideo(lock, step.name, { ...locked, updatedAt: this.at() }) : lock));
    }
    switch (step.action) {
      case 'unchanged': {
        const jobId = locked?.job.state === 'job' ? locked.job.jobId : undefined;
        ready.resolve(jobId);
        this.counts.unchanged++;
        this.emit({ type: 'target-done', at: this.at(), name: step.name, outcome: 'unchanged', jobId });
        return;
      }
      case 'fetch': {
        if (step.fromCache !== undefined) {
          await this.adoptFromCache(step, ready);
          return;
        }
        const job = locked?.job;
        if (job === undefined || job.state !== 'job') {
          this.fail(step.name, undefined, 'bug', 'fetch without a locked job');
          return;
        }
        ready.resolve(job.jobId);
        const ok = await this.restoreAssets(step, job, step.fingerprint);
        if (ok) {
          this.counts.fetched++;
          this.emit({ type: 'target-done', at: this.at(), name: step.name, outcome: 'fetched', jobId: job.jobId });
        } else this.leftUndownloaded(step.name);
        return;
      }
      case 'failed':
        // Failed before with these inputs (or derives from such a target):
        // not attempted unless asked (--retry-failed, --replace), so it is not paid twice.
        this.skip(step.name, `not retried: ${step.reason}`);
        return;
      case 'resume':
      case 'create':
      case 'replace':
      case 'retry':
      case 'regenerate': {
        const inputs = await this.resolveInputs(step);
        if (!inputs.ok) {
          this.skip(step.name, inputs.reason);
          return;
        }
        const outcome = await this.gen(() => this.generate(step, inputs));
        if (outcome.kind === 'interrupted') {
          // A job that exists is paid and still running (the next run resumes
          // it); only a target that never got one was skipped.
          const job = this.writer.lock.videos[step.name]?.job;
          if (job?.state === 'job' && !isTerminalStatus(job.status)) this.counts.inFlight++;
          else this.counts.skipped++;
          return;
        }
        if (outcome.kind === 'failed') return;
        ready.resolve(outcome.jobId);
        if (outcome.fromCache) {
          this.counts.fetched++;
          this.emit({ type: 'target-done', at: this.at(), name: step.name, outcome: 'fetched', jobId: outcome.jobId });
          return;
        }
        const ok = await this.materialize(step, outcome.jobId, outcome.fingerprint, outcome.request, step.target.assets);
        if (!ok) {
          this.leftUndownloaded(step.name);
          return;
        }
        const resumed = step.action === 'resume' && !this.createdThisRun.has(step.name);
        if (resumed) this.counts.resumed++;
        else this.counts.created++;
        this.emit({ type: 'target-done', at: this.at(), name: step.name, outcome: resumed ? 'resumed' : 'created', jobId: outcome.jobId });
        return;
      }
      default:
        unreachable(step.action, 'action');
    }
  }

  private readonly createdThisRun = new Set<TargetName>();

  /**
   * A download that returned without failing the target was cut short by the
   * interrupt. The job is done and paid for; without this it appeared in no
   * count and no message, and its copy on the API expires within the hour.
   */
  private leftUndownloaded(name: TargetName): void {
    if (!this.aborted || this.failed.includes(name) || this.notDownloaded.includes(name)) return;
    this.notDownloaded.push(name);
    this.counts.notDownloaded++;
  }

  /**
   * Set when a paid call could not even connect (refused, no such host):
   * the backend is not there, so the remaining paid calls are not attempted.
   */
  private unreachable: string | undefined;

  private markUnreachable(f: { readonly code: string; readonly message: string }): void {
    this.unreachable ??= `could not connect to ${this.o.client.baseURL} (${f.code})`;
  }

  /**
   * A `fetch` the planner found in the cache: these exact inputs were paid
   * for before (a reverted prompt, a renamed target). Adopt that job into the
   * lock and restore its assets; no API call. If the cache lost the objects
   * since planning, fail rather than spend money the plan did not show.
   */
  private async adoptFromCache(step: TargetStep, ready: Deferred<JobId | undefined>): Promise<void> {
    const inputs = await this.resolveInputs(step);
    if (!inputs.ok) {
      this.skip(step.name, inputs.reason);
      return;
    }
    const request = buildJobRequest(step.target, {
      sourceJobId: inputs.sourceJobId,
      uploadSha256: this.uploadShaOf(step.target),
      characterIds: inputs.characterIds,
    });
    const outcome = await this.fromCache(step, step.fingerprint, request);
    if (outcome === undefined) {
      this.fail(step.name, step.fromCache?.jobId, 'cache-missing', 'the cached copy planned for restore is gone or corrupt; run vidbuild plan again');
      return;
    }
    if (outcome.kind !== 'completed') return;
    ready.resolve(outcome.jobId);
    this.counts.fetched++;
    this.emit({ type: 'target-done', at: this.at(), name: step.name, outcome: 'fetched', jobId: outcome.jobId });
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
          return { ok: false, reason: this.aborted ? 'interrupted' : `source ${sourceName} did not complete` };
        }
      } else {
        const src = this.writer.lock.videos[sourceName];
        if (src?.job.state !== 'job' || src.job.status !== 'completed') {
          return { ok: false, reason: `source ${sourceName} has no completed job (apply it first)` };
        }
        sourceJobId = src.job.jobId;
      }
    }
    const characterIds: CharacterId[] = [];
    for (const c of target.characters) {
      const d = this.charReady.get(c);
      let id: CharacterId | undefined;
      if (d !== undefined) id = await d.promise;
      else {
        const lc = this.writer.lock.characters[c];
        id = lc?.job.state === 'created' ? lc.job.characterId : undefined;
      }
      if (id === undefined) return { ok: false, reason: this.aborted ? 'interrupted' : `character ${c} was not created` };
      characterIds.push(id);
    }
    return { ok: true, sourceJobId, characterIds };
  }

  /** Inside a generation slot: reuse from cache, resume, reconcile or submit, then poll to the end. */
  private async generate(step: TargetStep, inputs: Inputs & { ok: true }): Promise<GenOutcome> {
    if (this.aborted) {
      this.emit({ type: 'job-skipped', at: this.at(), name: step.name, reason: 'interrupted' });
      return { kind: 'interrupted' };
    }
    const target = step.target;
    const locked = this.writer.lock.videos[step.name];

    // A job from an earlier run that already has an id: never recreate, poll it.
    if (step.action === 'resume' && locked?.job.state === 'job') {
      const job = locked.job;
      this.emit({ type: 'job-submitted', at: this.at(), name: step.name, jobId: job.jobId, kind: target.kind, fingerprint: locked.fingerprint, resumed: true });
      const polled = await this.poll(step.name, job.jobId, locked.fingerprint, job.request, false);
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
        const why = this.unreachable === undefined ? '' : ` (${this.unreachable})`;
        this.fail(step.name, undefined, 'reconcile-failed', `could not list videos to check for a job created by the interrupted run${why}; the intent is kept, try again`);
        return { kind: 'failed' };
      }
      if (found !== undefined) {
        await this.recordJob(step, fingerprint, request, found);
        this.emit({ type: 'job-submitted', at: this.at(), name: step.name, jobId: jobIdOf(found), kind: target.kind, fingerprint, resumed: true });
        const polled = await this.poll(step.name, jobIdOf(found), fingerprint, request, false, found);
        return this.afterPoll(polled, jobIdOf(found), fingerprint, request);
      }
    }

    // The same inputs were generated before (a reverted prompt, a renamed
    // target): restore from the cache instead of paying again.
    // Except when the user forced a new job with --replace: that is the point of it.
    const forced = step.action === 'replace' && step.changes.includes('--replace');
    const cached = forced ? undefined : await this.fromCache(step, fingerprint, request);
    if (cached !== undefined) return cached;

    if (this.o.frozen === true) {
      this.fail(step.name, undefined, 'frozen', `needs a new job (${step.reason}); --frozen never creates jobs`);
      return { kind: 'failed' };
    }

    // Sent again after reconciling found nothing: the old time while a job of
    // the first call could still appear within its window, else a fresh one,
    // so that the window covers this call.
    const intentAt =
      step.action === 'resume' && locked?.job.state === 'intent' && this.now().getTime() - Date.parse(locked.job.intentAt) <= CLOCK_SLACK_MS
        ? locked.job.intentAt
        : this.at();
    const video = await this.submit(step, fingerprint, request, intentAt);
    if (video === undefined) return { kind: 'failed' };
    this.createdThisRun.add(step.name);
    const jobId = jobIdOf(video);
    const polled = await this.poll(step.name, jobId, fingerprint, request, true, video);
    return this.afterPoll(polled, jobId, fingerprint, request);
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

  private uploadShaOf(target: Target): Sha256 | undefined {
    const file = referencedFilesOf(target)[0];
    return file === undefined ? undefined : this.o.fileHashes.get(file);
  }

  private recomputeFingerprint(target: Target, inputs: Inputs & { ok: true }): Fingerprint {
    const files: Sha256[] = [];
    for (const f of referencedFilesOf(target)) {
      const sha = this.o.fileHashes.get(f);
      if (sha !== undefined) files.push(sha);
    }
    return fingerprintTarget(target, {
      files,
      source: inputs.sourceJobId === undefined ? undefined : { jobId: inputs.sourceJobId },
      characters: inputs.characterIds.map((id) => ({ id })),
    });
  }

  private async fromCache(step: TargetStep, fingerprint: Fingerprint, request: JobRequest): Promise<GenOutcome | undefined> {
    const hit = await this.cache.lookup(fingerprint);
    if (hit === undefined || hit.jobId === undefined) return undefined;
    if (!step.target.assets.every((v) => hit.assets[v] !== undefined)) return undefined;
    const jobId = hit.jobId;
    const assets: Partial<Record<AssetVariant, LockedAsset>> = {};
    for (const variant of step.target.assets) {
      const rel = step.target.outputs[variant];
      const meta = hit.assets[variant];
      if (rel === undefined || meta === undefined) continue;
      const dest = await this.outputPath(step.name, jobId, rel);
      if (dest === undefined || !(await this.mayWrite(step.name, jobId, dest, meta.sha256))) return { kind: 'failed' };
      if (!(await this.cache.restore(fingerprint, variant, dest))) return undefined;
      assets[variant] = { path: rel, bytes: meta.bytes, sha256: meta.sha256 };
      this.emit({ type: 'asset-restored', at: this.at(), name: step.name, variant, path: rel, bytes: meta.bytes, from: 'cache' });
    }
    const at = this.at();
    this.claimed.add(jobId);
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
    await this.writer.update((lock) =>
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
  private async submit(step: TargetStep, fingerprint: Fingerprint, request: JobRequest, intentAt: string): Promise<Video | undefined> {
    const previous = this.writer.lock.videos[step.name];
    if (this.unreachable !== undefined) {
      this.skip(step.name, `not sent: ${this.unreachable}`);
      return undefined;
    }
    const supersedes = supersededBy(previous);
    await this.writer.update((lock) =>
      withVideo(lock, step.name, {
        ...entryBase(step, fingerprint, this.at()),
        job: { state: 'intent', intentAt, request, ...(supersedes.length === 0 ? {} : { supersedes }) },
        assets: {},
      }),
    );
    this.emit({ type: 'job-intent', at: this.at(), name: step.name, kind: step.target.kind, fingerprint });

    let lastMessage = '';
    // Whether any attempt for this intent may have reached the server: only
    // then must the intent outlive a failure (for the next run to reconcile).
    let maybeSent = step.action === 'resume' && previous?.job.state === 'intent';
    for (let attempt = 0; attempt < MAX_SUBMIT_ATTEMPTS; attempt++) {
      if (this.unreachable !== undefined) {
        if (!maybeSent) await this.writer.update((lock) => withVideo(lock, step.name, previous));
        this.skip(step.name, `not sent: ${this.unreachable}`);
        return undefined;
      }
      let video: Video;
      try {
        video = await sendJob({ client: this.o.client, projectDir: this.o.manifest.projectDir }, step.target, request);
      } catch (e: unknown) {
        const f = classifyCallError(e);
        lastMessage = f.message;
        switch (f.kind) {
          case 'rate-limited':
            // The gate (closed by the client's fetch) holds every request back; just wait for it.
            await this.o.rateGate?.wait();
            continue;
          case 'refused': {
            await this.writer.update((lock) => withVideo(lock, step.name, previous));
            this.fail(step.name, undefined, f.code, await this.explainRefusal(step, request, f));
            return undefined;
          }
          case 'not-sent': {
            // No connection, so nothing was sent or billed: fail now instead of
            // spinning through reconcile rounds against a server that is not there.
            // The intent goes only if no earlier attempt may have reached the server.
            if (!maybeSent) await this.writer.update((lock) => withVideo(lock, step.name, previous));
            this.markUnreachable(f);
            this.fail(step.name, undefined, 'connection-failed', `${this.unreachable ?? f.message}; nothing was sent`);
            return undefined;
          }
          case 'unknown': {
            maybeSent = true;
            // Give the server a moment to make the job visible, then look for it.
            await sleep(Math.min(500 * 2 ** attempt, 8_000)).catch(() => undefined);
            const found = await this.reconcile(step.name, request, step.target.seconds, intentAt, 'lost-response');
            if (found === 'error') continue;
            if (found !== undefined) return this.accepted(step, fingerprint, request, found);
            if (this.aborted) {
              this.emit({ type: 'job-skipped', at: this.at(), name: step.name, reason: 'interrupted' });
              this.counts.skipped++;
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
    this.fail(step.name, undefined, 'submit-failed', `could not submit the job: ${lastMessage}`);
    return undefined;
  }

  /**
   * The API accepted the job (or reconciliation found it): it is paid for
   * from here on. Save its id; if the lock cannot be written (disk full,
   * read-only), the target fails without another paid call, and the intent
   * already on disk lets the next run adopt this job through reconciliation.
   */
  private async accepted(step: TargetStep, fingerprint: Fingerprint, request: JobRequest, video: Video): Promise<Video | undefined> {
    const jobId = jobIdOf(video);
    this.cost += step.cost;
    if (step.unpriced === true) this.unpriced++;
    try {
      await this.recordJob(step, fingerprint, request, video);
    } catch (e: unknown) {
      const local = localWriteErrorOf(e);
      const why = local === undefined ? (e instanceof Error ? e.message : String(e)) : describeLocalWrite(local, path.basename(this.o.lockPath), path.dirname(this.o.lockPath));
      this.fail(step.name, jobId, 'lock-write-failed', `job ${jobId} was created but its id could not be saved: ${why}; the next run finds it again from the saved intent (no new job)`);
      return undefined;
    }
    this.emit({ type: 'job-submitted', at: this.at(), name: step.name, jobId, kind: step.target.kind, fingerprint, resumed: false });
    return video;
  }

  /**
   * The API answered the paid call but named no job: it may well have made
   * (and billed) one, so this is an unknown outcome — and one that sending
   * again would repeat, paying each time. The job is looked for once the way
   * a lost response's is; if it is not found, the target fails, the intent
   * stays in the lock, and the next run looks again before creating anything.
   */
  private async acceptedWithoutId(step: TargetStep, fingerprint: Fingerprint, request: JobRequest, intentAt: string): Promise<Video | undefined> {
    const found = await this.reconcile(step.name, request, step.target.seconds, intentAt, 'answer-without-id');
    if (found !== undefined && found !== 'error') return this.accepted(step, fingerprint, request, found);
    // Counted as spent: a budget (watch --max-cost) must not forget a job that may exist.
    this.cost += step.cost;
    const lockName = path.basename(this.o.lockPath);
    this.fail(
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
      missing = await missingInputsOf(this.o.client, request);
    } catch {
      return f.message;
    }
    const parts = [f.message.replace(/\.$/, '')];
    const where = this.o.client.baseURL;
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
        const job = this.writer.lock.characters[n]?.job;
        return job?.state === 'created' && job.characterId === id;
      });
      if (name === undefined) continue;
      await this.writer.update((lock) => {
        const job = lock.characters[name]?.job;
        if (job?.state !== 'created' || job.characterId !== id) return lock;
        const characters = { ...lock.characters };
        delete characters[name];
        return { ...lock, characters };
      });
      parts.push(`character ${name} (${id}) no longer exists at ${where}; it was removed from ${path.basename(this.o.lockPath)}, so the next run creates it again`);
    }
    return parts.join('; ');
  }

  /** One reconciliation at a time, so two identical requests never adopt the same job. */
  private reconcile(
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
          found = await findCreatedJob(this.o.client, { request, resultSeconds, intentAt, claimed: this.claimed });
          break;
        } catch (e: unknown) {
          const unconnected = connectFailureOf(e);
          if (unconnected !== undefined) this.markUnreachable(unconnected);
          if (unconnected !== undefined || this.aborted || attempt >= RECONCILE_LIST_ATTEMPTS - 1) return 'error';
          if (e instanceof APIError && e.status !== undefined && e.status >= 400 && e.status < 500 && ![408, 409, 429].includes(e.status)) return 'error';
          try {
            await sleep(1_000 * 2 ** attempt, this.o.signal);
          } catch {
            return 'error';
          }
        }
      }
      if (found !== undefined) this.claimed.add(found.id);
      this.emit({ type: 'job-reconciled', at: this.at(), name, jobId: found === undefined ? undefined : jobIdOf(found), after });
      return found;
    };
    const result = this.reconcileChain.then(run, run);
    this.reconcileChain = result;
    return result;
  }

  private async recordJob(step: TargetStep, fingerprint: Fingerprint, request: JobRequest, video: Video): Promise<void> {
    const jobId = jobIdOf(video);
    this.claimed.add(jobId);
    const at = this.at();
    await this.writer.update((lock) =>
      withVideo(lock, step.name, {
        ...entryBase(step, fingerprint, at),
        job: jobStateOf(video, request),
        assets: {},
      }),
    );
  }

  /** Polls until a terminal status, at adaptive intervals; records status changes in the lock. */
  private async poll(
    name: TargetName,
    jobId: JobId,
    fingerprint: Fingerprint,
    request: JobRequest,
    fresh: boolean,
    initial?: Video,
  ): Promise<PollOutcome> {
    const startedAtMs = Date.now();
    let first: PollSample | undefined;
    let latest: PollSample | undefined;
    let pollAfterMs: number | undefined;
    let lastStatus: string | undefined = initial?.status;
    let errors = 0;
    let video: Video | undefined = initial;
    // A resumed job may have finished long ago: look right away.
    let delay = fresh ? undefined : 0;
    for (;;) {
      if (video !== undefined && isTerminalStatus(video.status)) break;
      const wait =
        delay ??
        nextPollDelay({
          startedAtMs,
          nowMs: Date.now(),
          first,
          latest,
          typicalMs: this.durations.typical(),
          pollAfterMs,
          minMs: this.o.pollMinMs ?? 2_000,
          maxMs: this.o.pollMaxMs ?? 15_000,
        });
      delay = undefined;
      try {
        await sleep(wait, this.o.signal);
        await this.o.rateGate?.wait(this.o.signal);
        const { data, response } = await this.o.client.videos
          .retrieve(jobId, this.o.signal === undefined ? {} : { signal: this.o.signal })
          .withResponse();
        video = data;
        errors = 0;
        const hint = Number(response.headers.get('openai-poll-after-ms'));
        pollAfterMs = Number.isFinite(hint) && hint > 0 ? hint : undefined;
      } catch (e: unknown) {
        if (this.aborted || e instanceof APIUserAbortError) return { kind: 'interrupted' };
        if (e instanceof APIError && e.status === 404) {
          this.fail(name, jobId, 'job-not-found', `job ${jobId} no longer exists on the server`);
          await this.setJobStatus(name, jobId, 'failed', undefined, { code: 'job-not-found', message: 'job not found' });
          return { kind: 'failed' };
        }
        errors++;
        const unconnected = connectFailureOf(e);
        if (unconnected !== undefined && errors >= MAX_POLL_CONNECT_ERRORS) {
          // The server is not there at all (each poll already retried inside the SDK).
          this.fail(name, jobId, 'connection-failed', `could not connect to ${this.o.client.baseURL} (${unconnected.code}) to check job ${jobId}; its id is saved, run again to resume`);
          return { kind: 'failed' };
        }
        if (errors >= MAX_POLL_ERRORS) {
          // The id is safe in the lock: a later run resumes the job.
          this.fail(name, jobId, 'poll-failed', `could not check job ${jobId}: ${e instanceof Error ? e.message : String(e)}`);
          return { kind: 'failed' };
        }
        delay = Math.min(1_000 * 2 ** errors, 30_000);
        continue;
      }
      const progress = clampProgress(video.progress);
      if (progress > 0 && progress < 100) {
        latest = { atMs: Date.now(), progress };
        first ??= latest;
      }
      this.emit({ type: 'job-progress', at: this.at(), name, jobId, status: video.status, progress, elapsedMs: Date.now() - startedAtMs });
      if (video.status !== lastStatus && !isTerminalStatus(video.status)) {
        lastStatus = video.status;
        // Not awaited: a status change is informative; polling must not wait on the disk.
        void this.setJobStatus(name, jobId, video.status, progress, undefined).catch((e: unknown) => this.lockWriteFailed(e));
      }
    }

    if (video.status === 'completed') {
      if (fresh) {
        // Learn how long jobs take, from when they really ended (estimated
        // from progress), not from when we noticed: learning the noticed
        // time would make every wave poll a little later than the last.
        const learned = estimatedDuration(startedAtMs, first, latest, Date.now());
        if (learned !== undefined) this.durations.add(learned);
      }
      // The lock records the media as the API made it: an edit or extension
      // of an uploaded file takes that file's shape, whatever the manifest says.
      const made = resultShape(video);
      const asked = this.writer.lock.videos[name];
      if (made !== undefined && asked !== undefined && (made.size !== asked.size || made.seconds !== asked.seconds)) {
        this.emit({
          type: 'warning',
          at: this.at(),
          name,
          message: `the API made a ${made.size} ${made.seconds} s video; the manifest asks for ${asked.size} ${asked.seconds} s (the lock records what was made)`,
        });
      }
      void this.writer.update((lock) => {
        const entry = lock.videos[name];
        if (entry === undefined) return lock;
        return withVideo(lock, name, { ...entry, ...(made ?? {}), job: jobStateOf(video, request), updatedAt: this.at() });
      }).catch((e: unknown) => this.lockWriteFailed(e));
      this.emit({ type: 'job-completed', at: this.at(), name, jobId, fingerprint, expiresAt: isoOrUndefined(video.expires_at) });
      return { kind: 'completed', video };
    }
    const code = video.error?.code ?? video.status;
    const message = video.error?.message ?? `job ended with status ${video.status}`;
    await this.writer.update((lock) => {
      const entry = lock.videos[name];
      if (entry === undefined) return lock;
      return withVideo(lock, name, { ...entry, job: jobStateOf(video, request), updatedAt: this.at() });
    });
    this.fail(name, jobId, code, message);
    return { kind: 'failed' };
  }

  private async setJobStatus(
    name: TargetName,
    jobId: JobId,
    status: string,
    progress: number | undefined,
    error: { code: string; message: string } | undefined,
  ): Promise<void> {
    await this.writer.update((lock) => {
      const entry = lock.videos[name];
      if (entry === undefined || entry.job.state !== 'job' || entry.job.jobId !== jobId) return lock;
      const job: JobState = {
        ...entry.job,
        status,
        ...(progress === undefined ? {} : { progress }),
        ...(error === undefined ? {} : { error }),
      };
      return withVideo(lock, name, { ...entry, job, updatedAt: this.at() });
    });
  }

  // ---------------------------------------------------------------- assets

  /** Downloads every variant of a completed job (bounded by the download limit). */
  private async materialize(
    step: TargetStep,
    jobId: JobId,
    fingerprint: Fingerprint,
    request: JobRequest,
    variants: readonly AssetVariant[],
  ): Promise<boolean> {
    const record = this.cacheRecord(step, jobId, fingerprint);
    const results = await Promise.all(
      variants.map((variant) => this.dl(() => this.downloadOne(step, jobId, variant, record))),
    );
    void request;
    return results.every((r) => r);
  }

  /**
   * What the cache keeps besides the bytes, taken from the target's lock
   * entry (the media as the API made it, the job's times) so that a later
   * restore from the cache writes the same entry back.
   */
  private cacheRecord(step: TargetStep, jobId: JobId, fingerprint: Fingerprint): CacheRecord {
    const entry = this.writer.lock.videos[step.name];
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
      createdAt: job?.createdAt ?? this.at(),
      completedAt: job?.completedAt,
      expiresAt: job?.expiresAt,
    };
  }

  private async downloadOne(step: TargetStep, jobId: JobId, variant: AssetVariant, record: CacheRecord): Promise<boolean> {
    const rel = step.target.outputs[variant];
    if (rel === undefined) return true;
    if (this.aborted) return false;
    const dest = await this.outputPath(step.name, jobId, rel);
    if (dest === undefined) return false;
    // The committed bytes of this very job, if the lock records them.
    const locked = step.locked;
    const expectedSha256 = locked?.job.state === 'job' && locked.job.jobId === jobId ? locked.assets[variant]?.sha256 : undefined;
    const r = await downloadAsset({ client: this.o.client, jobId, variant, dest, signal: this.o.signal, expectedSha256, guard: this.guard });
    if (!r.ok) {
      if (r.error.code === 'aborted') return false;
      if (r.error.code === 'asset-expired') {
        // Remember it, so the next plan says `regenerate` (with its cost)
        // instead of planning the same doomed download forever.
        await this.markExpired(step.name, jobId);
        this.fail(step.name, jobId, r.error.code, `${r.error.message}; it is not in the cache either, so the next plan regenerates it`);
        return false;
      }
      this.fail(step.name, jobId, r.error.code, r.error.message);
      return false;
    }
    const { bytes, sha256 } = r.value;
    try {
      await this.cache.add(record, variant, dest, sha256, bytes);
    } catch (e: unknown) {
      this.emit({ type: 'warning', at: this.at(), name: step.name, message: `could not add ${rel} to the cache: ${e instanceof Error ? e.message : String(e)}` });
    }
    await this.setAsset(step.name, variant, { path: rel, bytes, sha256 });
    this.emit({ type: 'asset-restored', at: this.at(), name: step.name, variant, path: rel, bytes, from: 'remote' });
    return true;
  }

  /**
   * The absolute path for an output (its directory created), or undefined
   * after failing the target: the path leads outside the project, or the
   * directory cannot be made (disk full, read-only, a file in the way).
   */
  private async outputPath(name: TargetName, jobId: JobId, rel: string): Promise<string | undefined> {
    let dest: Awaited<ReturnType<typeof outputPathInside>>;
    try {
      dest = await outputPathInside(this.o.manifest.projectDir, rel);
    } catch (e: unknown) {
      const local = localWriteErrorOf(e);
      if (local === undefined) throw e;
      this.fail(name, jobId, 'write-failed', describeLocalWrite(local, rel, this.o.manifest.projectDir));
      return undefined;
    }
    if (!dest.ok) {
      this.fail(name, jobId, dest.error.code, dest.error.message);
      return undefined;
    }
    return dest.value;
  }

  /** Whether these bytes may take `dest`'s place (overwrite-guard.ts); fails the target when not. */
  private async mayWrite(name: TargetName, jobId: JobId, dest: string, incoming: Sha256): Promise<boolean> {
    const allowed = await this.guard(dest, incoming);
    if (!allowed.ok) this.fail(name, jobId, 'output-not-ours', allowed.message);
    return allowed.ok;
  }

  /** `fetch`: restore missing assets from the cache, else download them from the locked job. */
  private async restoreAssets(step: TargetStep, job: JobState, fingerprint: Fingerprint): Promise<boolean> {
    const record = this.cacheRecord(step, job.jobId, fingerprint);
    const hit = await this.cache.lookup(fingerprint);
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
          if (dest === undefined || !(await this.mayWrite(step.name, job.jobId, dest, meta.sha256))) return false;
          if (await this.cache.restoreBytes(meta, dest)) {
            await this.setAsset(step.name, r.variant, { path: r.path, bytes: meta.bytes, sha256: meta.sha256 });
            this.emit({ type: 'asset-restored', at: this.at(), name: step.name, variant: r.variant, path: r.path, bytes: meta.bytes, from: 'cache' });
            return true;
          }
        }
        if (this.o.frozen === true && r.from === 'generate') {
          this.fail(step.name, job.jobId, 'frozen', `${r.path} needs a new job; --frozen never creates jobs`);
          return false;
        }
        return this.dl(() => this.downloadOne(step, job.jobId, r.variant, record));
      }),
    );
    return results.every((x) => x);
  }

  /** The API no longer serves this job's assets: its expiry is now at the latest. */
  private async markExpired(name: TargetName, jobId: JobId): Promise<void> {
    const now = this.at();
    await this.writer.update((lock) => {
      const entry = lock.videos[name];
      if (entry === undefined || entry.job.state !== 'job' || entry.job.jobId !== jobId) return lock;
      if (entry.job.expiresAt !== undefined && entry.job.expiresAt <= now) return lock;
      return withVideo(lock, name, { ...entry, job: { ...entry.job, expiresAt: now }, updatedAt: now });
    });
  }

  private async setAsset(name: TargetName, variant: AssetVariant, asset: LockedAsset): Promise<void> {
    await this.writer.update((lock) => {
      const entry = lock.videos[name];
      if (entry === undefined) return lock;
      // Restoring the very bytes the lock records (a deleted output, a pull
      // in CI) leaves videos.lock as it is, byte for byte.
      if (sameAsset(entry.assets[variant], asset)) return lock;
      return withVideo(lock, name, { ...entry, assets: { ...entry.assets, [variant]: asset }, updatedAt: this.at() });
    });
  }

  // ---------------------------------------------------------------- characters

  private async runCharacter(step: CharacterStep): Promise<void> {
    const ready = this.charReady.get(step.name) ?? new Deferred<CharacterId | undefined>();
    try {
      switch (step.action) {
        case 'orphan':
          return;
        case 'unchanged': {
          const job = step.locked?.job;
          ready.resolve(job?.state === 'created' ? job.characterId : undefined);
          return;
        }
        case 'create':
        case 'replace':
        case 'resume': {
          const reused = await this.reuseCharacter(step);
          if (reused !== undefined) {
            ready.resolve(reused);
            return;
          }
          if (this.o.frozen === true) {
            this.emit({ type: 'character-failed', at: this.at(), name: step.name, code: 'frozen', message: 'needs creating; --frozen never creates' });
            return;
          }
          const id = await this.gen(() => this.createCharacter(step));
          ready.resolve(id);
          return;
        }
      }
    } catch (e: unknown) {
      // As for a target: a file system that refuses the lock's write fails
      // this character (its videos are skipped), not the whole run.
      const local = localWriteErrorOf(e);
      if (local === undefined) throw e;
      this.localWriteFailed = true;
      this.emit({ type: 'character-failed', at: this.at(), name: step.name, code: 'write-failed', message: describeLocalWriteAt(local, local.path === undefined ? path.basename(this.o.lockPath) : path.relative(this.o.manifest.projectDir, local.path)) });
    } finally {
      ready.resolve(undefined);
    }
  }

  /**
   * A character video changed back to bytes a character was created from
   * before (a reverted commit): take that character's id again instead of
   * creating another, provided the API still has it (a free GET). With the
   * old id, the videos made with it are found in the cache again (their
   * fingerprints are recomputed from the ids), so the revert costs nothing.
   */
  private async reuseCharacter(step: CharacterStep): Promise<CharacterId | undefined> {
    const character = this.o.manifest.characters.get(step.name);
    const fileSha256 = step.fileSha256;
    if (character === undefined || fileSha256 === undefined || this.aborted) return undefined;
    const known = await this.cache.characterFor(step.name, fileSha256).catch(() => undefined);
    if (known === undefined) return undefined;
    try {
      await this.o.client.videos.getCharacter(known.characterId, this.o.signal === undefined ? {} : { signal: this.o.signal });
    } catch {
      return undefined; // gone, or the provider cannot say: create it as planned
    }
    await this.writer.update((lock) => ({
      ...lock,
      characters: {
        ...lock.characters,
        [step.name]: { fileSha256, video: character.video, job: { state: 'created', characterId: known.characterId, createdAt: known.createdAt } },
      },
    }));
    this.emit({ type: 'character-created', at: this.at(), name: step.name, characterId: known.characterId, reused: true });
    return known.characterId;
  }

  /**
   * Characters have no list endpoint, so an intent left by a crash cannot be
   * reconciled the way a video job's can: all we can do is keep the window
   * small, clear the intent whenever the request provably never reached the
   * server (refused by the API, or no connection at all), and say plainly
   * when a re-run may create a second character. See docs/exactly-once.md.
   */
  private async createCharacter(step: CharacterStep): Promise<CharacterId | undefined> {
    const character = this.o.manifest.characters.get(step.name);
    if (character === undefined || step.fileSha256 === undefined || this.aborted) return undefined;
    const fileSha256 = step.fileSha256;
    const previous = this.writer.lock.characters[step.name];
    let maybeSent = false;
    if (previous?.job.state === 'intent') {
      maybeSent = true;
      this.emit({
        type: 'warning',
        at: this.at(),
        message: `character ${step.name}: a run interrupted at ${previous.job.intentAt} may already have created it; the API cannot list characters, so it may now exist twice (the extra one is unused)`,
      });
    }
    const restorePrevious = async (): Promise<void> => {
      if (maybeSent) return;
      await this.writer.update((lock) => {
        const characters = { ...lock.characters };
        if (previous === undefined) delete characters[step.name];
        else characters[step.name] = previous;
        return { ...lock, characters };
      });
    };
    await this.writer.update((lock) => ({
      ...lock,
      characters: { ...lock.characters, [step.name]: { fileSha256, video: character.video, job: { state: 'intent', intentAt: this.at() } } },
    }));
    let last = '';
    for (let attempt = 0; attempt < MAX_SUBMIT_ATTEMPTS; attempt++) {
      if (this.aborted) return undefined;
      try {
        const video = await readUpload(this.o.manifest.projectDir, character.video, fileSha256);
        const res = await this.o.client.videos.createCharacter({ name: step.name, video }, { maxRetries: 0 });
        const id = res.id;
        if (id === null || !isCharacterId(id)) throw new Error('the API returned no character id');
        const createdAt = new Date(res.created_at * 1000).toISOString();
        await this.writer.update((lock) => ({
          ...lock,
          characters: { ...lock.characters, [step.name]: { fileSha256, video: character.video, job: { state: 'created', characterId: id, createdAt } } },
        }));
        this.emit({ type: 'character-created', at: this.at(), name: step.name, characterId: id });
        // Remembered by its video's bytes, so that reverting the video reuses it.
        await this.cache.rememberCharacter(step.name, fileSha256, { characterId: id, createdAt }).catch((e: unknown) =>
          this.emit({ type: 'warning', at: this.at(), message: `could not remember character ${step.name} in the cache: ${e instanceof Error ? e.message : String(e)}` }),
        );
        return id;
      } catch (e: unknown) {
        const f = classifyCallError(e);
        last = f.message;
        switch (f.kind) {
          case 'refused':
            await restorePrevious();
            this.emit({ type: 'character-failed', at: this.at(), name: step.name, code: f.code, message: f.message });
            return undefined;
          case 'not-sent':
            await restorePrevious();
            this.markUnreachable(f);
            this.emit({ type: 'character-failed', at: this.at(), name: step.name, code: 'connection-failed', message: `${this.unreachable ?? f.message}; nothing was sent` });
            return undefined;
          case 'rate-limited':
            await this.o.rateGate?.wait();
            continue;
          case 'unknown':
            // Resending is the only way forward; unlike a video job, a
            // duplicate character is not billed, but say so.
            maybeSent = true;
            this.emit({ type: 'warning', at: this.at(), message: `character ${step.name}: ${f.message}; sending again (if the first request reached the server, the character now exists twice)` });
            await sleep(Math.min(500 * 2 ** attempt, 8_000), this.o.signal).catch(() => undefined);
            continue;
        }
      }
    }
    this.emit({ type: 'character-failed', at: this.at(), name: step.name, code: 'submit-failed', message: last });
    return undefined;
  }

  // ---------------------------------------------------------------- outcomes

  private lockWriteFailed(e: unknown): void {
    this.emit({ type: 'warning', at: this.at(), message: `could not write ${path.basename(this.o.lockPath)}: ${e instanceof Error ? e.message : String(e)}` });
  }

  private readyOf(name: TargetName): Deferred<JobId | undefined> {
    let d = this.ready.get(name);
    if (d === undefined) {
      d = new Deferred();
      this.ready.set(name, d);
    }
    return d;
  }

  private fail(name: TargetName, jobId: JobId | undefined, code: string, message: string): void {
    if (code === 'write-failed' || code === 'lock-write-failed') this.localWriteFailed = true;
    if (!this.failed.includes(name)) {
      this.failed.push(name);
      this.counts.failed++;
    }
    this.emit({ type: 'job-failed', at: this.at(), name, jobId, code, message });
  }

  private skip(name: TargetName, reason: string): void {
    this.counts.skipped++;
    this.emit({ type: 'job-skipped', at: this.at(), name, reason });
  }
}

// ------------------------------------------------------------------ helpers

function entryBase(step: TargetStep, fingerprint: Fingerprint, at: string): Omit<LockedTarget, 'job' | 'assets'> {
  const source = sourceTargetOf(step.target);
  return {
    kind: step.target.kind,
    fingerprint,
    model: step.target.model,
    size: step.target.size,
    seconds: step.target.seconds,
    ...(source === undefined ? {} : { source }),
    updatedAt: at,
  };
}

/** A copy of the lockfile with one target's entry set (or removed when `entry` is undefined). */
function withVideo(lock: Lockfile, name: TargetName, entry: LockedTarget | undefined): Lockfile {
  const videos: Record<string, LockedTarget> = { ...lock.videos };
  if (entry === undefined) delete videos[name];
  else videos[name] = entry;
  return { ...lock, videos };
}

function jobStateOf(video: Video, request: JobRequest): JobState {
  const completedAt = isoOrUndefined(video.completed_at);
  const expiresAt = isoOrUndefined(video.expires_at);
  return {
    state: 'job',
    jobId: jobIdOf(video),
    status: video.status,
    ...(video.status === 'completed' ? { progress: 100 } : { progress: clampProgress(video.progress) }),
    request,
    createdAt: new Date(video.created_at * 1000).toISOString(),
    ...(completedAt === undefined ? {} : { completedAt }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(video.error === null || video.error === undefined ? {} : { error: { code: video.error.code, message: video.error.message } }),
  };
}

/**
 * When a job really finished, from its progress samples: the end of the
 * linear trend through them. Undefined without an in-progress sample (the
 * poll that saw it completed says only "at most this long").
 */
function estimatedDuration(startedAtMs: number, first: PollSample | undefined, latest: PollSample | undefined, observedEndMs: number): number | undefined {
  if (latest === undefined) return undefined;
  let end: number;
  if (first !== undefined && latest.atMs > first.atMs && latest.progress > first.progress) {
    const rate = (latest.progress - first.progress) / (latest.atMs - first.atMs);
    end = latest.atMs + (100 - latest.progress) / rate;
  } else {
    end = startedAtMs + ((latest.atMs - startedAtMs) * 100) / latest.progress;
  }
  return Math.max(0, Math.min(end, observedEndMs) - startedAtMs);
}

/** Size and seconds of a completed video as the API reports them, when it reports them sanely. */
function resultShape(video: Video): { readonly size: string; readonly seconds: number } | undefined {
  const seconds = Number(video.seconds);
  if (typeof video.size !== 'string' || !/^\d{2,5}x\d{2,5}$/.test(video.size) || !Number.isFinite(seconds) || seconds <= 0) return undefined;
  return { size: video.size, seconds };
}

function sameAsset(a: LockedAsset | undefined, b: LockedAsset): boolean {
  return a !== undefined && a.path === b.path && a.bytes === b.bytes && a.sha256 === b.sha256;
}

function jobIdOf(video: Video): JobId {
  if (!isJobId(video.id)) throw new Error('the API returned a video without an id');
  return video.id;
}

function isoOrUndefined(unixSeconds: number | null | undefined): string | undefined {
  return unixSeconds === null || unixSeconds === undefined ? undefined : new Date(unixSeconds * 1000).toISOString();
}

function clampProgress(p: unknown): number {
  return typeof p === 'number' && Number.isFinite(p) ? Math.min(100, Math.max(0, p)) : 0;
}
