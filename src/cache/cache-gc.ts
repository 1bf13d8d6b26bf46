import type { Fingerprint, Lockfile, Sha256 } from '../lock/lockfile.js';
import { variantsOf, type CacheEntry } from './local-cache.js';

/** One object of a cache (local or remote) and its size. */
export interface CacheObject {
  readonly sha256: Sha256;
  readonly bytes: number;
  /** When the store last wrote it (the remote's LastModified); absent for the local cache, which gc holds the run lock over. */
  readonly modifiedAt?: Date;
}

export interface GcPolicy {
  /** Evict the oldest unprotected entries until the objects total at most this (bytes); undefined: no limit. */
  readonly maxBytes: number | undefined;
  /** Entries created after this instant are kept (recent history: watch's earlier versions, a revert). */
  readonly keepAfter: Date;
  /**
   * An object no index names that was written after this instant is kept:
   * a push uploads objects first and its index last, so a young unindexed
   * object may be another clone's upload in progress (the remote gc sets it;
   * undefined: no grace, as for the local cache under the run lock).
   */
  readonly unindexedKeepAfter?: Date | undefined;
}

/** What gc removes; index entries go first when applied, so no reader sees an entry without its objects. */
export interface GcSelection {
  readonly entries: readonly Fingerprint[];
  readonly objects: readonly CacheObject[];
  readonly freedBytes: number;
  readonly totalBytes: number;
  /** Bytes the cache still holds afterwards. */
  readonly keptBytes: number;
  /** True when the protected part alone is above `maxBytes`. */
  readonly overLimit: boolean;
  /** Objects no index names, kept because they are younger than `unindexedKeepAfter` (a push may be writing their entry). */
  readonly young: readonly CacheObject[];
}

/**
 * Which cache entries and objects to remove (pure; the local and the remote
 * gc share it). Always removed: objects no entry and no lock asset uses
 * (left by an interrupted push or a hand edit), once older than
 * `unindexedKeepAfter` when that is set. With a size limit, whole
 * entries are evicted oldest first, except those the lockfile uses (its
 * fingerprints and asset bytes: what `pull` restores) and the recent ones;
 * an object goes only when no kept entry and no lock asset names it.
 */
export function selectGarbage(entries: readonly CacheEntry[], objects: readonly CacheObject[], lock: Lockfile, policy: GcPolicy): GcSelection {
  const locked = new Set<string>();
  const lockedFps = new Set<string>();
  for (const e of Object.values(lock.videos)) {
    lockedFps.add(e.fingerprint);
    for (const a of Object.values(e.assets)) if (a !== undefined) locked.add(a.sha256);
  }
  const sizeOf = new Map(objects.map((o) => [o.sha256 as string, o.bytes]));
  const totalBytes = objects.reduce((n, o) => n + o.bytes, 0);
  const keepAfter = policy.keepAfter.getTime();
  const isProtected = (e: CacheEntry): boolean => lockedFps.has(e.fingerprint) || Date.parse(e.createdAt) > keepAfter;
  // Oldest first: the eviction order.
  const byAge = [...entries].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  const kept = new Set(byAge);
  const users = new Map<string, number>();
  for (const e of byAge) for (const sha of shasOf(e)) users.set(sha, (users.get(sha) ?? 0) + 1);
  const usedBytes = (): number => [...sizeOf].filter(([sha]) => locked.has(sha) || (users.get(sha) ?? 0) > 0).reduce((n, [, b]) => n + b, 0);
  const graceAfter = policy.unindexedKeepAfter?.getTime();
  const young = objects.filter((o) => graceAfter !== undefined && !locked.has(o.sha256) && (users.get(o.sha256) ?? 0) === 0 && (o.modifiedAt === undefined || o.modifiedAt.getTime() > graceAfter));
  const youngShas = new Set<string>(young.map((o) => o.sha256));
  let keptBytes = usedBytes() + young.reduce((n, o) => n + o.bytes, 0);
  const evicted: Fingerprint[] = [];
  if (policy.maxBytes !== undefined) {
    for (const e of byAge) {
      if (keptBytes <= policy.maxBytes) break;
      if (isProtected(e)) continue;
      kept.delete(e);
      evicted.push(e.fingerprint);
      for (const sha of shasOf(e)) {
        const left = (users.get(sha) ?? 1) - 1;
        users.set(sha, left);
        if (left === 0 && !locked.has(sha)) keptBytes -= sizeOf.get(sha) ?? 0;
      }
    }
  }
  const removed = objects.filter((o) => !locked.has(o.sha256) && !youngShas.has(o.sha256) && (users.get(o.sha256) ?? 0) === 0);
  const freedBytes = removed.reduce((n, o) => n + o.bytes, 0);
  return {
    entries: evicted,
    objects: removed,
    freedBytes,
    totalBytes,
    keptBytes: totalBytes - freedBytes,
    overLimit: policy.maxBytes !== undefined && totalBytes - freedBytes > policy.maxBytes,
    young,
  };
}

function shasOf(e: CacheEntry): string[] {
  const out: string[] = [];
  for (const v of variantsOf(e)) {
    const a = e.assets[v];
    if (a !== undefined) out.push(a.sha256);
  }
  return out;
}
