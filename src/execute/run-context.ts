import path from 'node:path';
import type OpenAI from 'openai';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Manifest, ProjectPath, TargetName } from '../manifest/manifest.js';
import type { JobId, Lockfile, Sha256 } from '../lock/lockfile.js';
import type { Plan } from '../plan/plan.js';
import type { ExecEvent } from './events.js';
import { LockWriter } from './lock-writer.js';
import { RateGate } from './rate-gate.js';
import { claimedJobIds } from './claimed-jobs.js';
import { lockRecordsOutput, lockRecordsPath, overwriteGuard, type OverwriteGuard } from './overwrite-guard.js';
import { NO_CACHE, type AssetCache } from './asset-cache.js';
import { SendPriority } from './send-priority.js';
import type { ObjectStore } from '../remote/object-store.js';

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
  /**
   * The team's shared cache and lock (`remote:`, src/remote/), already
   * probed by the caller; absent for a run without one.
   */
  readonly remote?: ObjectStore;
}

/**
 * What one run shares between its parts (the scheduler in apply.ts, the job
 * runner, the poller, the asset writer, the character runner): the options,
 * the lock writer, the cache, the concurrency limits, the claimed job ids,
 * the counts for the summary, and the one place a target's failure or skip
 * is recorded and told (`fail`, `skip`) and every event goes out (`emit`).
 */
export class RunContext {
  readonly o: RunApplyOptions;
  readonly writer: LockWriter;
  readonly cache: AssetCache;
  /** Generation slots: one per job running at the API. */
  readonly gen: LimitFunction;
  /** Targets getting ready for a slot (intent on disk), as many as there are slots: the next round is ready when a slot frees. */
  readonly stage: LimitFunction;
  /** Paid calls on their way, which downloads let go first (send-priority.ts). */
  readonly sends = new SendPriority();
  /** Download slots; a download starts once no paid call is on its way (or soon after). */
  readonly dl: <T>(download: () => Promise<T>) => Promise<T>;
  readonly now: () => Date;
  readonly startMs: number;
  /** Job ids owned by some lock entry; reconciliation never adopts one of these. */
  readonly claimed = new Set<string>();
  /** Every output write asks it first: only files vidbuild wrote are replaced. */
  readonly guard: OverwriteGuard;
  readonly failed: TargetName[] = [];
  counts = { created: 0, resumed: 0, fetched: 0, unchanged: 0, failed: 0, skipped: 0, inFlight: 0, notDownloaded: 0 };
  /** Completed jobs whose downloads the interrupt cut short (see `leftUndownloaded`). */
  readonly notDownloaded: TargetName[] = [];
  cost = 0;
  /** A target or character failed on a local write error (its message named the file and cause). */
  localWriteFailed = false;
  /** The lock's last write failed: the run cannot succeed. */
  lockUnsaved = false;
  /** Paid jobs submitted without a known price: counted, since they are not $0. */
  unpriced = 0;
  readonly createdThisRun = new Set<TargetName>();
  /** Targets whose job another runner made (the shared lock): counted as resumed, not created. */
  readonly adoptedThisRun = new Set<TargetName>();
  /**
   * Set when a paid call could not even connect (refused, no such host):
   * the backend is not there, so the remaining paid calls are not attempted.
   */
  unreachable: string | undefined;

  get aborted(): boolean {
    return this.o.signal?.aborted === true;
  }

  emit(event: ExecEvent): void {
    this.o.onEvent?.(event);
  }

  at(): string {
    return this.now().toISOString();
  }

  markUnreachable(f: { readonly code: string; readonly message: string }): void {
    this.unreachable ??= `could not connect to ${this.o.client.baseURL} (${f.code})`;
  }

  fail(name: TargetName, jobId: JobId | undefined, code: string, message: string): void {
    if (code === 'write-failed' || code === 'lock-write-failed') this.localWriteFailed = true;
    if (!this.failed.includes(name)) {
      this.failed.push(name);
      this.counts.failed++;
    }
    this.emit({ type: 'job-failed', at: this.at(), name, jobId, code, message });
  }

  skip(name: TargetName, reason: string): void {
    this.counts.skipped++;
    this.emit({ type: 'job-skipped', at: this.at(), name, reason });
  }

  lockWriteFailed(e: unknown): void {
    this.emit({ type: 'warning', at: this.at(), message: `could not write ${path.basename(this.o.lockPath)}: ${e instanceof Error ? e.message : String(e)}` });
  }

  constructor(options: RunApplyOptions) {
    this.o = options;
    this.writer = new LockWriter(options.lockPath, options.lock);
    this.cache = options.cache ?? NO_CACHE;
    const slots = Math.max(1, options.concurrency ?? options.manifest.concurrency ?? 4);
    this.gen = pLimit(slots);
    this.stage = pLimit(slots);
    const downloads = pLimit(Math.max(1, options.downloadConcurrency ?? 4));
    this.dl = (download) =>
      downloads(async () => {
        await this.sends.yieldToSends();
        return download();
      });
    this.now = options.now ?? (() => new Date());
    this.startMs = Date.now();
    for (const id of claimedJobIds(options.lock)) this.claimed.add(id);
    this.guard = overwriteGuard({
      projectDir: options.manifest.projectDir,
      recorded: (rel, sha) => lockRecordsOutput(options.lock, rel, sha) || lockRecordsOutput(this.writer.lock, rel, sha),
      force: options.force === true,
      recordedPath: (rel) => lockRecordsPath(options.lock, rel) || lockRecordsPath(this.writer.lock, rel),
      onMovedAside: (rel, aside) => this.emit({ type: 'warning', at: this.at(), message: `moved ${rel} aside to ${aside}: vidbuild did not write it (--force)` }),
      onKeptChanged: (name, rel, aside) =>
        this.emit({ type: 'warning', at: this.at(), name, message: `${rel} was changed since vidbuild wrote it: the changed file is kept as ${aside}` }),
    });
  }
}
