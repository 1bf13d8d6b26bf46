import path from 'node:path';
import { setMaxListeners } from 'node:events';
import type { Diagnostic } from '../core/diagnostic.js';
import { formatDiagnostic, warningDiagnostic } from '../core/diagnostic.js';
import type { Manifest, TargetName } from '../manifest/manifest.js';
import type { Fingerprint, Lockfile } from '../lock/lockfile.js';
import { readLockfile } from '../lock/read-lockfile.js';
import { lockfilePathForManifest } from '../lock/lockfile-path.js';
import { planProject } from '../plan/plan-project.js';
import { isPaidAction, planHasChanges, type DiskFacts, type Plan, type TargetStep } from '../plan/plan.js';
import { roundCents } from '../plan/pricing.js';
import { applyPlan } from '../execute/apply-plan.js';
import type { ExecEvent } from '../execute/events.js';
import { projectCache } from '../execute/local-cache-adapter.js';
import type { ObjectStore } from '../remote/object-store.js';
import type { AssetCache } from '../execute/asset-cache.js';
import { LocalCache } from '../cache/local-cache.js';
import type { Backend } from '../backend/create-backend.js';
import type { CycleRequest } from './watcher.js';
import type { loadManifest } from '../manifest/load-manifest.js';
import type { ReplanStep, WatchEvent } from './watch-events.js';
import { watchedFilesOf } from './watched-files.js';
import { referencedInText } from './referenced-in-text.js';
import { holdSteps, type Hold } from './hold-steps.js';
import { ObsoleteJobs } from '../execute/obsolete-jobs.js';
import type { HistoryEntry, PreviewStore } from './preview-state.js';

/**
 * What one watch cycle does (the Watcher decides *when*): load the manifest,
 * keeping the last good one when the edit is invalid; follow the watched file
 * set; re-plan; hand obsolete in-flight jobs to ObsoleteJobs; hold back what
 * should not run (failed with the same inputs, over the session budget); run
 * the rest with applyPlan; keep the preview store in step.
 *
 * Never prints: everything is a WatchEvent for the CLI to render.
 */
export interface WatchSessionOptions {
  /** Absolute path of the manifest. */
  readonly manifestFile: string;
  readonly cwd: string;
  readonly backend: Backend;
  /** The manifest loader (injected so a test or a bench can count loads). */
  readonly loadManifest: typeof loadManifest;
  /** Session budget in USD (`--max-cost`). */
  readonly maxCost: number | undefined;
  /** `--allow-unpriced`: under the budget, run steps with no known price anyway. */
  readonly allowUnpriced?: boolean;
  /** `--retry-failed`: always resubmit targets whose inputs already failed. */
  readonly retryFailed: boolean;
  readonly concurrency: number | undefined;
  readonly store: PreviewStore | undefined;
  /** The team's remote cache, probed at the start: restores come from it and what is made is pushed to it. */
  readonly remote?: ObjectStore | undefined;
  readonly onEvent: (event: WatchEvent) => void;
  /** Called with the files to watch whenever the set may have changed. */
  readonly setWatchedFiles: (files: ReadonlySet<string>) => void;
}

/** How many times a cycle waits for obsolete jobs it could restore from before planning anyway. */
const MAX_OBSOLETE_WAITS = 3;

export class WatchSession {
  readonly #o: WatchSessionOptions;
  readonly #cache: AssetCache | undefined;
  readonly #obsolete: ObsoleteJobs;
  #projectDir: string;
  #lastGood: Manifest | undefined;
  #watched: ReadonlySet<string>;
  #spent = 0;
  /** Target → fingerprint that failed this session. */
  readonly #failed = new Map<TargetName, Fingerprint>();
  /** Warnings already shown, so each re-plan does not repeat them. */
  readonly #warned = new Set<string>();
  #refresh: Promise<void> = Promise.resolve();
  /** The refresh queued behind the running one, which later requests join. */
  #waitingRefresh: RefreshRequest | undefined;
  /** Orphans already reported: they stay orphans until pruned, which is not news on every save. */
  #reportedOrphans = new Set<string>();
  /** Holds reported at the last re-plan, by target, so a save does not repeat them all. */
  #reportedHolds = new Map<string, string>();

  constructor(options: WatchSessionOptions) {
    this.#o = options;
    this.#projectDir = path.dirname(options.manifestFile);
    this.#watched = new Set([options.manifestFile]);
    this.#cache = undefined;
    this.#obsolete = new ObsoleteJobs({
      client: options.backend.client,
      projectDir: this.#projectDir,
      cache: projectCache(this.#projectDir),
      pollMinMs: options.backend.pollMinMs,
      pollMaxMs: options.backend.pollMaxMs,
      onEvent: (e) => {
        this.#emit(e);
        if (e.state === 'cached') this.#refreshHistory([e.name]);
      },
    });
  }

  get spent(): number {
    return this.#spent;
  }

  get watchedFiles(): ReadonlySet<string> {
    return this.#watched;
  }

  get pendingObsoleteJobs(): number {
    return this.#obsolete.pending;
  }

  /** The Watcher's `runCycle`. */
  readonly runCycle = async (request: CycleRequest): Promise<void> => {
    this.#emit({
      type: 'cycle-start',
      cycle: request.number,
      changed: request.changed.map((f) => this.#display(f)),
      retryFailed: request.retryFailed,
    });
    this.#o.store?.setPhase('running');
    try {
      await this.#cycle(request);
    } finally {
      await this.#refresh;
      this.#o.store?.setPhase(request.quit.aborted ? 'stopped' : 'watching');
      // Superseded, a follow-up cycle is already queued: "watching for changes" would be noise.
      if (!request.quit.aborted && !request.superseded.aborted) {
        this.#emit({ type: 'idle', cycle: request.number, files: this.#watched.size, spent: this.#spent });
      }
    }
  };

  /**
   * End of session: wait for obsolete jobs to land in the cache (they were
   * paid for) unless `giveUp` fires, then stop polling them.
   */
  async close(giveUp: AbortSignal): Promise<void> {
    await this.#obsolete.settle(giveUp);
    await this.#refresh;
  }

  async #cycle(request: CycleRequest): Promise<void> {
    const loaded = await this.#o.loadManifest(this.#o.manifestFile, { cwd: this.#o.cwd });
    if (!loaded.ok) {
      await this.#invalid(loaded.error);
      return;
    }
    const { manifest } = loaded.value;
    this.#warn(loaded.value.warnings);
    this.#o.store?.setErrors([]);
    this.#lastGood = manifest;
    this.#projectDir = manifest.projectDir;
    this.#setWatched(watchedFilesOf(manifest));

    const signal = AbortSignal.any([request.superseded, request.quit]);
    // applyPlan hands this signal to every request and wait of the run.
    setMaxListeners(0, signal);
    let planned: { lock: Lockfile; plan: Plan; fileHashes: DiskFacts['fileHashes'] } | undefined;
    for (let wait = 0; planned === undefined; wait++) {
      if (signal.aborted) return;
      const lock = await readLockfile(lockfilePathForManifest(manifest.file));
      if (!lock.ok) {
        await this.#invalid([lock.error]);
        return;
      }
      // Failed targets are planned as retries here; holdSteps decides whether they run
      // (not with the same inputs unless `r` or --retry-failed).
      const { facts, plan } = await planProject(manifest, lock.value, { retryFailed: true });
      this.#warn([...(facts.warnings ?? []), ...(plan.warnings ?? [])]);
      await this.#finishObsolete(lock.value, plan);
      // An edit reverted while the old job is still finishing: wait for it to
      // reach the cache and re-plan, so the revert restores instead of paying again.
      const pending = this.#obsolete.pendingFingerprints();
      const restorable = new Set(
        targetSteps(plan)
          .filter((s) => isPaidAction(s.action) && pending.has(s.fingerprint))
          .map((s) => s.fingerprint),
      );
      if (restorable.size > 0 && wait < MAX_OBSOLETE_WAITS) {
        await Promise.race([this.#obsolete.waitFor(restorable), aborted(signal)]);
        continue;
      }
      planned = { lock: lock.value, plan, fileHashes: facts.fileHashes };
    }

    const { lock, plan, fileHashes } = planned;
    const { plan: runnable, held } = holdSteps(plan, {
      failedThisSession: this.#failed,
      retryFailed: this.#o.retryFailed || request.retryFailed || manifest.retryFailed,
      spent: this.#spent,
      maxCost: this.#o.maxCost,
      allowUnpriced: this.#o.allowUnpriced === true,
    });
    this.#emit({
      type: 'replan',
      cycle: request.number,
      steps: this.#newsworthy(changedSteps(runnable)),
      ...this.#newHolds(held),
      cost: runnable.summary.cost,
      unpriced: runnable.summary.unpriced,
      spent: this.#spent,
      free: this.#o.backend.free,
    });
    this.#o.store?.setPlan(manifest, plan, lock, held);
    this.#refreshHistory([...manifest.targets.keys()], lock);
    if (!planHasChanges(runnable) || signal.aborted) return;

    const fingerprints = new Map(targetSteps(runnable).map((s) => [s.name, s.fingerprint]));
    const onSuperseded = () => this.#emit({ type: 'superseded' });
    request.superseded.addEventListener('abort', onSuperseded, { once: true });
    const { backend } = this.#o;
    try {
      const result = await applyPlan({
        manifest,
        plan: runnable,
        lock,
        lockPath: lockfilePathForManifest(manifest.file),
        client: backend.client,
        fileHashes,
        rateGate: backend.rateGate,
        ...(this.#o.concurrency === undefined ? {} : { concurrency: this.#o.concurrency }),
        pollMinMs: backend.pollMinMs,
        pollMaxMs: backend.pollMaxMs,
        signal,
        free: backend.free,
        onEvent: (event) => this.#onExec(event, fingerprints, request),
        // The session's own finisher: it outlives this cycle and is settled when the session ends.
        obsoleteJobs: this.#obsolete,
        onNotice: (n) => {
          if (n.type === 'warning') this.#warn([warningDiagnostic('earlier-run-job', `${n.name}: ${n.message}`)]);
        },
        ...(this.#o.remote === undefined ? {} : { remote: this.#o.remote }),
      });
      this.#spent = roundCents(this.#spent + result.summary.cost);
      this.#o.store?.setSpent(this.#spent);
      this.#o.store?.setLock(result.lock);
      this.#refreshHistory([...manifest.targets.keys()], result.lock);
    } finally {
      request.superseded.removeEventListener('abort', onSuperseded);
    }
  }

  #onExec(event: ExecEvent, fingerprints: ReadonlyMap<TargetName, Fingerprint>, request: CycleRequest): void {
    // Superseded, the apply's "run `vidbuild apply` to resume" is not the
    // story: the next cycle resumes or finishes those jobs itself.
    if (event.type === 'interrupted' && !request.quit.aborted) return;
    this.#emit({ type: 'exec', event });
    this.#o.store?.applyEvent(event);
    switch (event.type) {
      case 'job-failed': {
        const fp = fingerprints.get(event.name);
        if (fp !== undefined) this.#failed.set(event.name, fp);
        return;
      }
      case 'target-done':
        // The lockfile on disk now points at the new output: show it at once.
        this.#refreshFromDisk([event.name]);
        return;
      default:
        return;
    }
  }

  #newHolds(held: ReadonlyMap<TargetName, Hold>): { held: { name: TargetName; reason: string }[]; stillHeld: number } {
    const fresh: { name: TargetName; reason: string }[] = [];
    for (const [name, hold] of held) {
      if (this.#reportedHolds.get(name) !== hold.message) fresh.push({ name, reason: hold.message });
    }
    this.#reportedHolds = new Map([...held].map(([name, hold]) => [name, hold.message]));
    return { held: fresh, stillHeld: held.size - fresh.length };
  }

  #newsworthy(steps: readonly ReplanStep[]): readonly ReplanStep[] {
    const orphans = new Set(steps.filter((s) => s.action === 'orphan').map((s) => s.name));
    const out = steps.filter((s) => s.action !== 'orphan' || !this.#reportedOrphans.has(s.name));
    this.#reportedOrphans = orphans;
    return out;
  }

  async #invalid(diagnostics: readonly Diagnostic[]): Promise<void> {
    // Keep watching what the last good manifest referenced, the manifest
    // itself, and whatever the invalid text names: the edit may be waiting
    // for a file that is about to be created. Set before the error is shown,
    // so a file created in reaction to it is seen.
    const last = this.#lastGood === undefined ? new Set([this.#o.manifestFile]) : watchedFilesOf(this.#lastGood);
    this.#setWatched(new Set([...last, ...(await referencedInText(this.#o.manifestFile))]));
    this.#emit({ type: 'manifest-invalid', diagnostics, beforeFirstApply: false });
    this.#o.store?.setErrors(diagnostics.map((d) => formatDiagnostic(this.#relative(d))));
  }

  #warn(diagnostics: readonly Diagnostic[]): void {
    for (const d of diagnostics) {
      const key = formatDiagnostic(d);
      if (this.#warned.has(key)) continue;
      this.#warned.add(key);
      this.#emit({ type: 'warning', diagnostic: d });
    }
  }

  /** Hands this plan's obsolete in-flight jobs to the finisher; resolves once they are on record (before the run can make the lock forget them). */
  async #finishObsolete(lock: Lockfile, plan: Plan): Promise<void> {
    const current = new Map<string, Fingerprint>();
    for (const s of targetSteps(plan)) current.set(s.name, s.fingerprint);
    const recorded: Promise<void>[] = [];
    for (const [name, locked] of Object.entries(lock.videos)) {
      if (!ObsoleteJobs.isObsolete(locked, current.get(name))) continue;
      const step = plan.steps.find((s) => s.name === name);
      if (step === undefined) continue;
      recorded.push(this.#obsolete.finish({ name: step.name, locked, job: locked.job }));
    }
    await Promise.all(recorded);
  }

  #setWatched(files: ReadonlySet<string>): void {
    this.#watched = files;
    // Even when the set is the same: the file watcher takes a fresh look at
    // which of its directories exist (cheap: one stat per directory).
    this.#o.setWatchedFiles(files);
  }

  /** The lockfile on disk changed (a target finished): show its outputs and history. */
  #refreshFromDisk(names: readonly TargetName[]): void {
    this.#queueRefresh(names, undefined, true);
  }

  #refreshHistory(names: readonly TargetName[], lock?: Lockfile): void {
    this.#queueRefresh(names, lock, false);
  }

  /**
   * Refreshes run one at a time, and requests made while one is waiting its
   * turn fold into it: a run of 200 targets asks for one after every target,
   * and each refresh reads the whole cache index, so running them one by one
   * cost targets x entries reads and kept a cycle busy for a minute.
   */
  #queueRefresh(names: readonly TargetName[], lock: Lockfile | undefined, setLock: boolean): void {
    if (this.#o.store === undefined) return;
    const waiting = this.#waitingRefresh;
    if (waiting !== undefined) {
      for (const n of names) waiting.names.add(n);
      // The newer request knows the newer lockfile; "read it from disk" (undefined) is newest of all.
      waiting.lock = lock;
      waiting.setLock ||= setLock;
      return;
    }
    const request: RefreshRequest = { names: new Set(names), lock, setLock };
    this.#waitingRefresh = request;
    this.#refresh = this.#refresh.then(async () => {
      this.#waitingRefresh = undefined;
      let current = request.lock;
      if (current === undefined) {
        const read = await readLockfile(lockfilePathForManifest(this.#o.manifestFile));
        current = read.ok ? read.value : undefined;
      }
      if (request.setLock && current !== undefined) this.#o.store?.setLock(current);
      await this.#loadHistory(request.names, current);
    });
  }

  /** One pass over the cache index for all the names (not one per name: each pass reads every entry). */
  async #loadHistory(names: ReadonlySet<TargetName>, lock: Lockfile | undefined): Promise<void> {
    const store = this.#o.store;
    if (store === undefined || names.size === 0) return;
    const cache = new LocalCache(this.#projectDir);
    const byName = new Map<string, HistoryEntry[]>();
    for (const fp of await cache.indexedFingerprints()) {
      const e = await cache.lookup(fp);
      if (e === undefined || !names.has(e.name)) continue;
      const list = byName.get(e.name) ?? [];
      list.push({
        fingerprint: e.fingerprint,
        prompt: e.prompt,
        model: e.model,
        size: e.size,
        seconds: e.seconds,
        createdAt: e.createdAt,
        jobId: e.jobId,
        videoSha256: e.assets.video?.sha256 ?? null,
        thumbnailSha256: e.assets.thumbnail?.sha256 ?? null,
      });
      byName.set(e.name, list);
    }
    for (const name of names) store.setHistory(name, byName.get(name) ?? [], lock?.videos[name]?.fingerprint);
  }

  #relative(d: Diagnostic): Diagnostic {
    return d.location === undefined ? d : { ...d, location: { ...d.location, file: this.#display(d.location.file) } };
  }

  #display(file: string): string {
    const rel = path.relative(this.#o.cwd, path.resolve(this.#o.cwd, file));
    return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
  }

  #emit(event: WatchEvent): void {
    this.#o.onEvent(event);
  }
}

interface RefreshRequest {
  readonly names: Set<TargetName>;
  /** undefined: read videos.lock when the refresh runs. */
  lock: Lockfile | undefined;
  /** Also point the cards at the lockfile's outputs. */
  setLock: boolean;
}

function targetSteps(plan: Plan): readonly TargetStep[] {
  return plan.steps.filter((s): s is TargetStep => s.action !== 'orphan');
}

/** The steps that do something, for "print only what changed". */
export function changedSteps(plan: Plan): readonly ReplanStep[] {
  const out: ReplanStep[] = [];
  for (const s of plan.steps) {
    if (s.action === 'unchanged') continue;
    out.push({ name: s.name, action: s.action, reason: s.reason, cost: s.cost });
  }
  return out;
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
