import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { parseJsonObject } from '../core/json-object.js';
import { ok, type Result } from '../core/result.js';
import { pidAlive as realPidAlive } from '../lock/run-lock.js';
import type { ObjectStore, RemoteError } from './object-store.js';
import { claimKey, claimsPrefix, indexKey, parseClaim, serializeClaim, type ClaimRecord, type ListedClaim } from './claim-record.js';
import { claimLiveness, type ClaimLiveness } from './claim-staleness.js';
import { thisHost, type HostIdentity } from './host-identity.js';
import { retryingStore } from './retrying-store.js';

/**
 * The shared lock: which runner makes the paid call for a fingerprint, on
 * any strongly consistent S3 (read-after-write and list-after-write), with
 * or without conditional writes. RELIABILITY.md §9 has the safety argument.
 *
 * Each claimer writes its own object `claims/<fp>/<claimId>.json`, then
 * lists `claims/<fp>/`: it holds the fingerprint only if its claim is the
 * only one there. If A's listing missed B's claim, B's write completed after
 * A's listing began, so B's listing (after its write) sees A's: at most one
 * of them can see itself alone. When both see both, both withdraw and try
 * again after a random back-off. A claimer that finds a claim there already
 * does not write one: it waits for that claim's job id (`waitForJob`).
 *
 * `If-None-Match: *` goes out on every claim write: a claim's key is unique,
 * so it never decides anything here, but it keeps the write the one a
 * server with conditional writes would refuse if a key were ever reused.
 */
export interface RemoteLockOptions {
  /** How long after its claim a runner can still be creating the job (the intent window plus clock slack), ms. */
  readonly windowMs: number;
  readonly runId?: string;
  readonly me?: HostIdentity;
  readonly pid?: number;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly pidAlive?: (pid: number) => boolean;
  /**
   * How long a holder on this machine must stay dead before its claim is
   * stale: a call the server had already received gets that long to become
   * a job that `videos.list` shows.
   */
  readonly deadGraceMs?: number;
  /** First interval between looks at a holder's claim (it grows to 2 s). */
  readonly pollMs?: number;
  /** Rounds of "both saw both" before giving up. */
  readonly contentionRounds?: number;
}

export interface ClaimOptions {
  readonly signal?: AbortSignal | undefined;
  /**
   * The target's own earlier jobs (--replace, a retry): a done record made
   * by one of them is what the call replaces, not a reason to skip it.
   */
  readonly superseded?: readonly string[];
  /** Where the record that these inputs are done lives (default: the shared cache's index entry). */
  readonly doneKey?: string;
}

export type ClaimOutcome =
  | { readonly kind: 'won'; readonly held: ListedClaim }
  /** Another runner's claim is there (with its job id, or still making the call). */
  | { readonly kind: 'held'; readonly other: ListedClaim }
  /** The shared cache has this fingerprint's assets (`index/<fp>.json`): nothing to pay for. */
  | { readonly kind: 'done-elsewhere'; readonly jobId: string | undefined }
  | { readonly kind: 'contended' }
  | { readonly kind: 'interrupted' }
  | { readonly kind: 'error'; readonly error: RemoteError };

export type WaitOutcome =
  | { readonly kind: 'job'; readonly jobId: string; readonly claim: ClaimRecord }
  /** The claim went away (withdrawn, or taken over): claim again. */
  | { readonly kind: 'released' }
  | { readonly kind: 'stale'; readonly why: 'holder-dead' | 'expired'; readonly other: ListedClaim }
  | { readonly kind: 'interrupted' }
  | { readonly kind: 'error'; readonly error: RemoteError };

const MAX_POLL_MS = 2_000;
/** How long an unreadable claim (see `waitForJob`) is given to become readable. */
const UNREADABLE_GRACE_MS = 5_000;

export class RemoteLock {
  readonly runId: string;
  private readonly me: HostIdentity;
  private readonly pid: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly pidAlive: (pid: number) => boolean;
  private claims = 0;
  /** Rounds in which this runner and another both saw both claims and withdrew (for figures and tests). */
  contentions = 0;

  readonly store: ObjectStore;

  constructor(
    store: ObjectStore,
    private readonly o: RemoteLockOptions,
  ) {
    this.store = retryingStore(store);
    this.runId = o.runId ?? randomUUID();
    this.me = o.me ?? thisHost();
    this.pid = o.pid ?? process.pid;
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
    this.pidAlive = o.pidAlive ?? realPidAlive;
  }

  /** Claims `fingerprint` for the paid call of `target` (see the class comment and `ClaimOptions`). */
  async claim(fingerprint: string, target: string, options: ClaimOptions = {}): Promise<ClaimOutcome> {
    const { signal, superseded = [] } = options;
    const doneKey = options.doneKey ?? indexKey(fingerprint);
    const rounds = this.o.contentionRounds ?? 12;
    for (let round = 0; round < rounds; round++) {
      const done = await this.doneElsewhere(doneKey, superseded);
      if (!done.ok) return { kind: 'error', error: done.error };
      if (done.value !== undefined) return done.value;
      const before = await this.listClaims(fingerprint);
      if (!before.ok) return { kind: 'error', error: before.error };
      const existing = pickOther(before.value, undefined);
      if (existing !== undefined) return { kind: 'held', other: existing };

      const mine = this.newClaim(fingerprint, target);
      const put = await this.store.putText(mine.key, serializeClaim(mine.claim), { ifNoneMatch: true });
      if (!put.ok) return { kind: 'error', error: put.error };
      // Our key is unique, so only a server that reused it could say `exists`: not ours to delete; a new key next round.
      if (put.value === 'exists') continue;
      const after = await this.listClaims(fingerprint);
      if (!after.ok) {
        await this.store.delete(mine.key);
        return { kind: 'error', error: after.error };
      }
      const rival = pickOther(after.value, mine.key);
      if (rival === undefined) {
        // Won; but a runner may have finished these inputs between the first look and now.
        const since = await this.doneElsewhere(doneKey, superseded);
        if (since.ok && since.value === undefined) return { kind: 'won', held: mine };
        await this.store.delete(mine.key);
        return since.ok ? (since.value ?? { kind: 'contended' }) : { kind: 'error', error: since.error };
      }
      const withdrawn = await this.store.delete(mine.key);
      if (!withdrawn.ok) return { kind: 'error', error: withdrawn.error };
      if (rival.claim.jobId !== undefined) return { kind: 'held', other: rival };
      this.contentions++;
      // Both saw both: each backs off for a random while, so one comes back first and the other finds its claim.
      if (!(await pause(backoffMs(round, this.random()), signal))) return { kind: 'interrupted' };
    }
    return { kind: 'contended' };
  }

  /** Writes the job id into our claim: from now on, other runners adopt this job. */
  recordJob(held: ListedClaim, jobId: string): Promise<Result<void, RemoteError>> {
    return this.rewrite(held.key, { ...held.claim, jobId });
  }

  /** The paid call was not made (refused, not sent, interrupted before it): let the others claim. */
  async withdraw(held: ListedClaim): Promise<Result<void, RemoteError>> {
    return this.store.delete(held.key);
  }

  /**
   * After the job completed and its assets are recorded: once the shared
   * cache's index has the fingerprint, it is the record and the claim goes;
   * until then the claim stays, since it is the only record of which job
   * these inputs made (a runner that finds it adopts the job instead of paying).
   */
  async settle(held: ListedClaim, fingerprint: string, doneKey = indexKey(fingerprint)): Promise<Result<'deleted' | 'kept', RemoteError>> {
    const indexed = await this.store.head(doneKey);
    if (!indexed.ok) return indexed;
    if (indexed.value === undefined) return ok('kept');
    const deleted = await this.store.delete(held.key);
    return deleted.ok ? ok('deleted') : deleted;
  }

  /** A stale claim's job was found by reconciliation: write it in, so every other waiter adopts it too. */
  adoptStale(other: ListedClaim, jobId: string): Promise<Result<void, RemoteError>> {
    return this.rewrite(other.key, { ...other.claim, jobId, adoptedBy: this.runId });
  }

  /** A stale claim reconciliation found no job for: remove it, then claim again. */
  takeOver(other: ListedClaim): Promise<Result<void, RemoteError>> {
    return this.store.delete(other.key);
  }

  /**
   * Follows another runner's claim until its job id appears, the claim goes
   * away, or it is stale (claim-staleness.ts). Bounded: a claim without a
   * job id is `expired` once the intent window has passed.
   */
  async waitForJob(other: ListedClaim, signal?: AbortSignal): Promise<WaitOutcome> {
    let pollMs = this.o.pollMs ?? 250;
    let deadSince: number | undefined;
    for (let look = 0; look < 100_000; look++) {
      const text = await this.store.getText(other.key);
      if (!text.ok) return { kind: 'error', error: text.error };
      if (text.value === undefined) return { kind: 'released' };
      const parsed = parseClaim(text.value);
      const claim = parsed ?? other.claim;
      // Not a claim (empty, cut short): its writer never got past writing it, so it never sent a
      // paid call (that comes after the claim is written and listed). A server that stores a PUT
      // cut off by kill -9 keeps such an object (s3rver does); past a grace in which a write in
      // progress would have landed, it is stale (reconciled, then taken over), not live for 11 min.
      if (parsed === undefined && this.now() - Date.parse(other.claim.createdAt) >= Math.max(this.o.deadGraceMs ?? 2_000, UNREADABLE_GRACE_MS)) {
        return { kind: 'stale', why: 'holder-dead', other: { key: other.key, claim } };
      }
      const liveness = this.livenessOf(claim);
      if (liveness === 'has-job' && claim.jobId !== undefined) return { kind: 'job', jobId: claim.jobId, claim };
      if (liveness === 'expired') return { kind: 'stale', why: 'expired', other: { key: other.key, claim } };
      if (liveness === 'holder-dead') {
        deadSince ??= this.now();
        if (this.now() - deadSince >= (this.o.deadGraceMs ?? 2_000)) return { kind: 'stale', why: 'holder-dead', other: { key: other.key, claim } };
      } else deadSince = undefined;
      if (!(await pause(pollMs, signal))) return { kind: 'interrupted' };
      pollMs = Math.min(MAX_POLL_MS, Math.round(pollMs * 1.5));
    }
    return { kind: 'stale', why: 'expired', other };
  }

  livenessOf(claim: ClaimRecord): ClaimLiveness {
    return claimLiveness(claim, { nowMs: this.now(), hostId: this.me.hostId, windowMs: this.o.windowMs, pidAlive: this.pidAlive });
  }

  private newClaim(fingerprint: string, target: string): ListedClaim {
    const claimId = `${this.runId}-${++this.claims}`;
    const claim: ClaimRecord = { v: 1, claimId, runId: this.runId, host: this.me.host, hostId: this.me.hostId, pid: this.pid, target, createdAt: new Date(this.now()).toISOString() };
    return { key: claimKey(fingerprint, claimId), claim };
  }

  private async rewrite(key: string, claim: ClaimRecord): Promise<Result<void, RemoteError>> {
    const put = await this.store.putText(key, serializeClaim(claim));
    return put.ok ? ok(undefined) : put;
  }

  /** The done record there (`index/<fp>.json`) means another runner finished and pushed these inputs (unless its job is one being replaced). */
  private async doneElsewhere(doneKey: string, superseded: readonly string[]): Promise<Result<ClaimOutcome | undefined, RemoteError>> {
    const text = await this.store.getText(doneKey);
    if (!text.ok) return text;
    if (text.value === undefined) return ok(undefined);
    const jobId = jobIdOfIndex(text.value);
    if (jobId !== undefined && superseded.includes(jobId)) return ok(undefined);
    return ok({ kind: 'done-elsewhere', jobId });
  }

  /** Every claim under the fingerprint, read (a listing has no bodies). An object that is not a claim counts as one without a job, dated by the server. */
  private async listClaims(fingerprint: string): Promise<Result<ListedClaim[], RemoteError>> {
    const listed = await this.store.list(claimsPrefix(fingerprint));
    if (!listed.ok) return listed;
    const claims: ListedClaim[] = [];
    for (const object of listed.value) {
      const text = await this.store.getText(object.key);
      if (!text.ok) return text;
      if (text.value === undefined) continue; // withdrawn between the listing and the read
      const claim = parseClaim(text.value) ?? {
        v: 1,
        claimId: object.key,
        runId: '',
        host: 'unknown',
        hostId: '',
        pid: 0,
        target: '',
        createdAt: object.lastModified.toISOString(),
      };
      claims.push({ key: object.key, claim });
    }
    return ok(claims);
  }
}

/** The claim to follow among the others: one with a job id first, else the oldest. */
function pickOther(claims: readonly ListedClaim[], ownKey: string | undefined): ListedClaim | undefined {
  const others = claims.filter((c) => c.key !== ownKey);
  return others.find((c) => c.claim.jobId !== undefined) ?? [...others].sort((a, b) => Date.parse(a.claim.createdAt) - Date.parse(b.claim.createdAt))[0];
}

/** 40–120 ms the first time, doubling, at most ~2 s. */
function backoffMs(round: number, random: number): number {
  return Math.min(2_000, 40 * 2 ** Math.min(round, 5)) * (1 + 2 * random);
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await delay(ms, undefined, signal === undefined ? {} : { signal });
    return true;
  } catch {
    return false;
  }
}

/** The done record may name what was made: a cache entry its job (`jobId`), a character record its `characterId`. */
function jobIdOfIndex(text: string): string | undefined {
  const record = parseJsonObject(text) as { jobId?: unknown; characterId?: unknown } | undefined;
  const id = record?.jobId ?? record?.characterId;
  return typeof id === 'string' ? id : undefined;
}
