import type { Manifest, Target, TargetKind, TargetName } from '../manifest/manifest.js';
import type { Lockfile, LockedTarget } from '../lock/lockfile.js';
import type { Plan, TargetStep } from '../plan/plan.js';
import type { ExecEvent } from '../execute/events.js';
import { defaultPriceTable, estimateCost, pricePerSecond, withPriceOverrides, type PriceTable } from '../plan/pricing.js';
import { unreachable } from '../core/unreachable.js';
import type { Hold } from './hold-steps.js';

/**
 * What the preview page shows, as one JSON-serializable snapshot. The watch
 * session feeds it (plans, executor events, lockfile, cache history); the
 * preview server sends the whole snapshot to every page over SSE whenever it
 * changes. Whole snapshots keep the page stateless: a reconnecting page is
 * never out of sync, and a few targets make a few kilobytes.
 */
export interface PreviewSnapshot {
  /** Increases with every change, so a page can ignore stale messages. */
  readonly revision: number;
  /** Manifest path as shown to the user. */
  readonly manifest: string;
  readonly phase: SessionPhase;
  /** Formatted `file:line:col: message` lines of the last invalid edit; empty when the manifest is valid. */
  readonly errors: readonly string[];
  /** Estimated USD of paid jobs submitted this session, and the `--max-cost` budget. */
  readonly spent: number;
  readonly maxCost: number | null;
  readonly backend: string;
  /** The backend bills nothing (the emulator): `spent` is only what the jobs would cost at API prices. */
  readonly free: boolean;
  /** A line about the last cycle (e.g. "refused: over budget"), or null. */
  readonly notice: string | null;
  readonly cards: readonly PreviewCard[];
}

export type SessionPhase = 'starting' | 'running' | 'watching' | 'stopped';

/** Where a target is, in the page's terms. */
export type CardStatus =
  | 'up-to-date'
  | 'pending'
  | 'submitting'
  | 'queued'
  | 'in_progress'
  | 'downloading'
  | 'done'
  | 'failed'
  | 'skipped'
  | 'held';

export interface PreviewCard {
  readonly name: string;
  readonly kind: TargetKind;
  /** Source target name or source file, for derived targets. */
  readonly source: string | null;
  readonly prompt: string;
  readonly model: string;
  readonly size: string;
  readonly seconds: number;
  /** The plan's action for this target in the last cycle and why. */
  readonly action: string;
  readonly reason: string;
  readonly status: CardStatus;
  /** 0–100 while a job runs. */
  readonly progress: number | null;
  readonly error: string | null;
  /** Estimated USD of one generation of this target as specified now; null when its price is unknown (not free). */
  readonly cost: number | null;
  /** The output on disk, if any (URLs change when the content does). */
  readonly video: MediaRef | null;
  /** Every version of this target in the local cache, newest first. */
  readonly history: readonly PreviewVersion[];
}

export interface MediaRef {
  readonly url: string;
  readonly poster: string | null;
}

export interface PreviewVersion {
  readonly fingerprint: string;
  readonly prompt: string;
  readonly createdAt: string;
  readonly jobId: string | null;
  readonly video: MediaRef | null;
  /** WIDTHxHEIGHT as made, so the page draws a portrait clip in a portrait box. */
  readonly size: string;
  /**
   * When another version has the same prompt, what tells them apart
   * ("8 s, not 4 s"; "another reference image or source"); else null.
   */
  readonly differs: string | null;
  /** True for the version the lockfile holds now. */
  readonly current: boolean;
}

/** One cached version, as watch/target-history.ts reads it from the local cache. */
export interface HistoryEntry {
  readonly fingerprint: string;
  readonly prompt: string;
  readonly model: string;
  readonly size: string;
  readonly seconds: number;
  readonly createdAt: string;
  readonly jobId: string | null;
  readonly videoSha256: string | null;
  readonly thumbnailSha256: string | null;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function outputUrl(path: string, sha256: string): string {
  return `/files/${path.split('/').map(encodeURIComponent).join('/')}?v=${sha256.slice(0, 16)}`;
}

export function cacheUrl(sha256: string): string {
  return `/cache/${sha256}`;
}

/**
 * Holds the snapshot and notifies listeners. Mutations are small and named
 * for what happened, so the session code reads as a story.
 */
export class PreviewStore {
  #revision = 0;
  #phase: SessionPhase = 'starting';
  #errors: readonly string[] = [];
  #spent = 0;
  #notice: string | null = null;
  #cards = new Map<string, Mutable<PreviewCard>>();
  readonly #listeners = new Set<() => void>();
  readonly #manifest: string;
  readonly #maxCost: number | null;
  #backend: string;
  #free: boolean;

  constructor(options: { manifest: string; maxCost: number | undefined; backend: string; free?: boolean }) {
    this.#manifest = options.manifest;
    this.#maxCost = options.maxCost ?? null;
    this.#backend = options.backend;
    this.#free = options.free ?? false;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  snapshot(): PreviewSnapshot {
    return {
      revision: this.#revision,
      manifest: this.#manifest,
      phase: this.#phase,
      errors: this.#errors,
      spent: this.#spent,
      maxCost: this.#maxCost,
      backend: this.#backend,
      free: this.#free,
      notice: this.#notice,
      cards: [...this.#cards.values()].map((c) => ({ ...c })),
    };
  }

  /** Project-relative output paths the page may load (everything else is refused). */
  servableOutputs(): ReadonlySet<string> {
    const paths = new Set<string>();
    for (const c of this.#cards.values()) {
      if (c.video !== null) paths.add(decodeOutputPath(c.video.url));
      if (c.video?.poster != null) paths.add(decodeOutputPath(c.video.poster));
    }
    return paths;
  }

  /** The backend is known once the manifest is valid (it may name a provider). */
  setBackend(label: string, free = false): void {
    this.#backend = label;
    this.#free = free;
    this.#changed();
  }

  setPhase(phase: SessionPhase): void {
    this.#phase = phase;
    this.#changed();
  }

  setErrors(lines: readonly string[]): void {
    this.#errors = [...lines];
    this.#changed();
  }

  setNotice(notice: string | null): void {
    this.#notice = notice;
    this.#changed();
  }

  setSpent(usd: number): void {
    this.#spent = usd;
    this.#changed();
  }

  /**
   * A new plan: one card per target in manifest order. `held` are targets the
   * session will not run this cycle (already failed with these inputs), with why.
   */
  setPlan(manifest: Manifest, plan: Plan, lock: Lockfile, held: ReadonlyMap<TargetName, Hold>): void {
    const next = new Map<string, Mutable<PreviewCard>>();
    const steps = new Map<string, TargetStep>();
    for (const s of plan.steps) if (s.action !== 'orphan') steps.set(s.name, s);
    const prices = withPriceOverrides(defaultPriceTable(), manifest.pricing);
    for (const target of manifest.targets.values()) {
      const step = steps.get(target.name);
      const previous = this.#cards.get(target.name);
      const locked = lock.videos[target.name];
      const hold = held.get(target.name);
      const card: Mutable<PreviewCard> = {
        name: target.name,
        kind: target.kind,
        source: sourceLabel(target),
        prompt: target.prompt,
        model: target.model,
        size: target.size,
        seconds: target.seconds,
        action: step?.action ?? 'unchanged',
        reason: step?.reason ?? '',
        status: 'pending',
        progress: null,
        error: null,
        cost: generationCost(target, prices),
        video: mediaOf(locked),
        history: previous?.history ?? [],
      };
      if (hold !== undefined) {
        switch (hold.reason) {
          case 'failed-before':
            card.status = 'failed';
            card.error = `${failureOf(locked) ?? 'failed'} (${hold.message})`;
            break;
          case 'over-budget':
          case 'unpriced':
          case 'source-held':
            card.status = 'held';
            card.error = hold.message;
            break;
          default:
            unreachable(hold, 'hold');
        }
      } else if (step === undefined || step.action === 'unchanged') {
        card.status = 'up-to-date';
      }
      next.set(target.name, card);
    }
    this.#cards = next;
    this.#changed();
  }

  /** The lockfile after a run: outputs may have new content. */
  setLock(lock: Lockfile): void {
    for (const [name, locked] of Object.entries(lock.videos)) {
      const card = this.#cards.get(name);
      if (card !== undefined) card.video = mediaOf(locked) ?? card.video;
    }
    this.#changed();
  }

  setHistory(name: string, entries: readonly HistoryEntry[], currentFingerprint: string | undefined): void {
    const card = this.#cards.get(name);
    if (card === undefined) return;
    const sorted = [...entries].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    card.history = sorted
      .map((e) => ({
        fingerprint: e.fingerprint,
        prompt: e.prompt,
        createdAt: e.createdAt,
        jobId: e.jobId,
        size: e.size,
        differs: whatDiffers(e, sorted),
        video:
          e.videoSha256 === null
            ? null
            : { url: cacheUrl(e.videoSha256), poster: e.thumbnailSha256 === null ? null : cacheUrl(e.thumbnailSha256) },
        current: e.fingerprint === currentFingerprint,
      }));
    this.#changed();
  }

  /** Reflect one executor event on the cards. */
  applyEvent(event: ExecEvent): void {
    switch (event.type) {
      case 'plan-ready':
      case 'character-created':
      case 'character-failed':
      case 'rate-limited':
      case 'warning':
      case 'interrupted':
      case 'run-finished':
        return;
      case 'job-intent':
        this.#update(event.name, { status: 'submitting', progress: 0, error: null });
        return;
      case 'job-submitted':
        this.#update(event.name, { status: 'queued', progress: 0, error: null });
        return;
      case 'job-progress':
        this.#update(event.name, {
          status: event.status === 'queued' ? 'queued' : 'in_progress',
          progress: event.progress,
        });
        return;
      case 'job-completed':
        this.#update(event.name, { status: 'downloading', progress: 100 });
        return;
      case 'job-failed':
        this.#update(event.name, { status: 'failed', progress: null, error: `${event.code}: ${event.message}` });
        return;
      case 'job-skipped':
        this.#update(event.name, { status: 'skipped', progress: null, error: event.reason });
        return;
      case 'job-reconciled':
      case 'remote-claim':
        return;
      case 'asset-restored':
        // The file is in place; the session re-reads the lockfile on
        // `target-done` and setLock() points the card at the new content.
        this.#update(event.name, { status: 'downloading' });
        return;
      case 'target-done':
        this.#update(event.name, { status: event.outcome === 'unchanged' ? 'up-to-date' : 'done', progress: null });
        return;
      default:
        unreachable(event, 'exec event');
    }
  }

  #update(name: string, patch: Partial<Mutable<PreviewCard>>): void {
    const card = this.#cards.get(name);
    if (card === undefined) return;
    Object.assign(card, patch);
    this.#changed();
  }

  #changed(): void {
    this.#revision++;
    for (const l of this.#listeners) l();
  }
}

function sourceLabel(t: Target): string | null {
  if (t.kind === 'generate') {
    const ref = t.inputReference;
    if (ref === undefined) return null;
    return `image ${ref.type === 'file' ? ref.path : ref.type === 'image_url' ? ref.url : ref.fileId}`;
  }
  return t.source.type === 'target' ? t.source.name : `file ${t.source.path}`;
}

/** null when the price table has no price for the model and size: unknown, not free. */
function generationCost(t: Target, prices: PriceTable): number | null {
  if (pricePerSecond(t.model, t.size, prices) === undefined) return null;
  return estimateCost(t.model, t.size, t.kind === 'extend' ? t.addSeconds : t.seconds, prices);
}

function mediaOf(locked: LockedTarget | undefined): MediaRef | null {
  const video = locked?.assets.video;
  if (video === undefined) return null;
  const thumb = locked?.assets.thumbnail;
  return { url: outputUrl(video.path, video.sha256), poster: thumb === undefined ? null : outputUrl(thumb.path, thumb.sha256) };
}

function failureOf(locked: LockedTarget | undefined): string | null {
  if (locked === undefined || locked.job.state !== 'job' || locked.job.error === undefined) return null;
  return `${locked.job.error.code}: ${locked.job.error.message}`;
}

/** Inverse of outputUrl's path part. */
export function decodeOutputPath(url: string): string {
  const pathPart = url.replace(/^\/files\//, '').replace(/\?.*$/, '');
  return pathPart.split('/').map(decodeURIComponent).join('/');
}

/**
 * Two versions with one prompt differ in something else: say what, against
 * the nearest other version with that prompt. Model, size and length are in
 * the cache entry; anything else (a reference image, the source's job,
 * characters) only in the fingerprint, so it is named as a group.
 */
export function whatDiffers(e: HistoryEntry, all: readonly HistoryEntry[]): string | null {
  const twin = all.find((o) => o !== e && o.fingerprint !== e.fingerprint && o.prompt === e.prompt);
  if (twin === undefined) return null;
  const parts: string[] = [];
  if (e.model !== twin.model) parts.push(`${e.model}, not ${twin.model}`);
  if (e.size !== twin.size) parts.push(`${e.size}, not ${twin.size}`);
  if (e.seconds !== twin.seconds) parts.push(`${e.seconds} s, not ${twin.seconds} s`);
  return `same prompt as another version: ${parts.length > 0 ? parts.join('; ') : 'another reference image, source or characters'}`;
}
