import { ok, type Result } from '../core/result.js';
import { characterClaimFingerprint, parseClaim } from './claim-record.js';
import type { ObjectStore, RemoteError } from './object-store.js';
import { parseCharacterRecord, parseEntry } from '../cache/local-cache.js';
import type { Fingerprint } from '../lock/lockfile.js';
import { remoteIndexKey } from './remote-cache.js';

/**
 * A claim `gc --remote` may delete, and why:
 *
 * - `settled`: its job id is the one the done record (`index/F.json`, or the
 *   character record) names: the record has taken over, as `settle` would
 *   have deleted it had its runner's push not failed or a takeover left it;
 * - `expired-done`: no job id, older than the intent window (no call of its
 *   runner can still create a job: claim-staleness.ts's `expired`), and the
 *   inputs are done (every claimer stops at the done record first);
 * - `unreadable`: not a claim (a PUT cut short) and older than the window:
 *   its writer never reached its paid call.
 *
 * Everything else is kept: a claim whose job id differs from the done record
 * (a --replace) or that has no done record is the team's only record of its
 * job; one without a job id and not done is reconciled by the next apply.
 */
export interface StaleClaim {
  readonly key: string;
  readonly why: 'settled' | 'expired-done' | 'unreadable';
  readonly target: string;
  readonly ageMs: number;
}

/** The claims under `claims/` that protect nothing any more (see `StaleClaim`); `kept` counts the rest. */
export async function staleClaims(store: ObjectStore, nowMs: number, windowMs: number): Promise<Result<{ readonly stale: readonly StaleClaim[]; readonly kept: number }, RemoteError>> {
  const listed = await store.list('claims/');
  if (!listed.ok) return listed;
  if (listed.value.length === 0) return ok({ stale: [], kept: 0 });
  // What each claimed fingerprint's done record names: a cache entry's job, a character's id.
  const done = new Map<string, string | undefined>();
  const characters = await store.list('characters/');
  if (!characters.ok) return characters;
  for (const c of characters.value) {
    const text = await store.getText(c.key);
    if (!text.ok) return text;
    const record = text.value === undefined ? undefined : parseCharacterRecord(text.value);
    const m = /^characters\/([0-9a-f]{64})-(.+)\.json$/.exec(c.key);
    if (record !== undefined && m !== null) done.set(characterClaimFingerprint(m[2] ?? '', m[1] ?? '').replace(/^sha256:/, ''), record.characterId);
  }
  const stale: StaleClaim[] = [];
  let kept = 0;
  for (const object of listed.value) {
    const hex = /^claims\/([0-9a-f]{64})\//.exec(object.key)?.[1];
    const text = await store.getText(object.key);
    if (!text.ok) return text;
    if (hex === undefined || text.value === undefined) continue;
    const claim = parseClaim(text.value);
    if (claim === undefined) {
      const ageMs = nowMs - object.lastModified.getTime();
      if (ageMs > windowMs) stale.push({ key: object.key, why: 'unreadable', target: '', ageMs });
      else kept++;
      continue;
    }
    if (!done.has(hex)) {
      const index = await store.getText(remoteIndexKey(`sha256:${hex}` as Fingerprint));
      if (!index.ok) return index;
      done.set(hex, index.value === undefined ? undefined : parseEntry(index.value)?.jobId);
    }
    const doneId = done.get(hex);
    const ageMs = nowMs - Date.parse(claim.createdAt);
    if (doneId !== undefined && claim.jobId === doneId) stale.push({ key: object.key, why: 'settled', target: claim.target, ageMs });
    else if (doneId !== undefined && claim.jobId === undefined && ageMs > windowMs) stale.push({ key: object.key, why: 'expired-done', target: claim.target, ageMs });
    else kept++;
  }
  return ok({ stale, kept });
}
