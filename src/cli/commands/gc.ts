import path from 'node:path';
import { LocalCache, type CacheEntry } from '../../cache/local-cache.js';
import { selectGarbage, type CacheObject, type GcSelection } from '../../cache/cache-gc.js';
import { ok, type Result } from '../../core/result.js';
import { listRemoteCache, remoteIndexKey, remoteObjectKey } from '../../remote/remote-cache.js';
import type { ObjectStore } from '../../remote/object-store.js';
import { staleClaims, type StaleClaim } from '../../remote/claim-gc.js';
import { CLOCK_SLACK_MS, INTENT_WINDOW_MS } from '../../execute/reconcile.js';
import { openForRemote } from '../remote-command.js';
import { countOf, formatBytes } from '../progress/describe-event.js';

/**
 * `vidbuild gc`: trims the local cache (`--remote`: the team's remote cache
 * instead) to `--max-size`, evicting the oldest entries first but never what
 * videos.lock uses (its fingerprints and asset bytes: what `pull` restores)
 * nor entries newer than `--keep-days` (default 7: watch's earlier versions,
 * a revert of last week's edit). Objects nothing names go in any case;
 * on the remote only once older than `UNINDEXED_GRACE_MS` (by the listing's
 * LastModified), since a push writes its objects before its index and
 * another clone may be pushing right now.
 * A dry run unless `--yes`: deleting paid-for videos deserves a look first.
 * The local gc holds the run lock, so no apply restores from an object as it
 * goes. On the remote, index entries are deleted before their objects.
 */
/**
 * How old an object no remote index names must be before gc deletes it. A
 * push writes an entry's objects, then its index: anything younger may be an
 * upload in progress (S3 dates a multipart upload from its start). Fixed, not
 * --keep-days: `--keep-days 0` must not make gc race a teammate's push.
 */
export const UNINDEXED_GRACE_MS = 3_600_000;

export async function run(opts: Record<string, unknown>, _args: readonly string[]): Promise<number> {
  const yes = opts['yes'] === true;
  const remoteWanted = opts['remote'] !== undefined && opts['remote'] !== false;
  const opened = await openForRemote({ ...opts, remote: typeof opts['remote'] === 'string' ? opts['remote'] : undefined }, { lockFor: yes && !remoteWanted ? 'gc' : undefined, remote: remoteWanted });
  if (!opened.ok) return opened.exitCode;
  const { project, store } = opened;
  try {
    const keepDays = typeof opts['keepDays'] === 'number' ? opts['keepDays'] : 7;
    const now = Date.now();
    const policy = {
      maxBytes: typeof opts['maxSize'] === 'number' ? opts['maxSize'] : undefined,
      keepAfter: new Date(now - keepDays * 86_400_000),
      unindexedKeepAfter: store === undefined ? undefined : new Date(now - UNINDEXED_GRACE_MS),
    };
    const local = new LocalCache(project.manifest.projectDir);
    const listed = store === undefined ? await listLocal(local) : await listRemoteCache(store);
    if (!listed.ok) {
      process.stderr.write(`${listed.error.message}\n`);
      return 1;
    }
    const selection = selectGarbage(listed.value.entries, listed.value.objects, project.lock, policy);
    // The shared lock's claims that protect nothing any more (remote/claim-gc.ts says which).
    const claims = store === undefined ? ok({ stale: [], kept: 0 }) : await staleClaims(store, now, INTENT_WINDOW_MS + CLOCK_SLACK_MS);
    if (!claims.ok) {
      process.stderr.write(`${claims.error.message}\n`);
      return 1;
    }
    const claimSet = claims.value;
    const failed = !yes ? undefined : store === undefined ? await removeLocal(local, selection) : ((await removeRemote(store, selection)) ?? (await removeClaims(store, claimSet.stale)));
    if (failed !== undefined) {
      process.stderr.write(`${failed}; run gc again to finish\n`);
      return 1;
    }
    const where = store === undefined ? 'local cache' : `remote ${store.url}`;
    // What goes, by target, so a review of the dry run can see it (not only how many).
    const byFingerprint = new Map(listed.value.entries.map((e) => [e.fingerprint, e] as const));
    const going = selection.entries.map((fp) => ({ fingerprint: fp, name: byFingerprint.get(fp)?.name, createdAt: byFingerprint.get(fp)?.createdAt }));
    const lockName = path.basename(project.lockPath);
    if (opts['json'] === true) {
      process.stdout.write(`${JSON.stringify({ ok: true, where, dryRun: !yes, entries: selection.entries.length, removedEntries: going, lockConsulted: lockName, objects: selection.objects.length, young: selection.young.length, ...(store === undefined ? {} : { claims: claimSet.stale.map((c) => ({ key: c.key, why: c.why, target: c.target, ageSeconds: Math.round(c.ageMs / 1000) })), claimsKept: claimSet.kept }), freedBytes: selection.freedBytes, totalBytes: selection.totalBytes, keptBytes: selection.keptBytes, overLimit: selection.overLimit }, null, 2)}\n`);
      return 0;
    }
    const verb = yes ? 'removed' : 'would remove';
    process.stdout.write(
      `${where}: ${formatBytes(selection.totalBytes)}; ${verb} ${selection.entries.length} ${selection.entries.length === 1 ? 'entry' : 'entries'} and ${countOf(selection.objects.length, 'object')} (${formatBytes(selection.freedBytes)}), keeping ${formatBytes(selection.keptBytes)}\n`,
    );
    for (const g of going.slice(0, LISTED)) process.stdout.write(`  - ${g.name ?? '(unnamed)'} ${g.fingerprint.slice(0, 'sha256:'.length + 12)}${g.createdAt === undefined ? '' : `, made ${g.createdAt.slice(0, 10)}`}\n`);
    if (going.length > LISTED) process.stdout.write(`  … and ${going.length - LISTED} more (--json lists them all)\n`);
    if (store !== undefined && going.length > 0) {
      process.stdout.write(`only ${lockName} here was consulted: an entry another branch's or clone's lock still uses is kept only while newer than ${keepDays} days (--keep-days)\n`);
    }
    if (store !== undefined && (claimSet.stale.length > 0 || claimSet.kept > 0)) {
      process.stdout.write(`shared lock: ${verb} ${countOf(claimSet.stale.length, 'claim')} that protect nothing any more, keeping ${claimSet.kept}\n`);
      for (const c of claimSet.stale) process.stdout.write(`  - ${c.key}${c.target === '' ? '' : ` (${c.target})`}: ${CLAIM_WHY[c.why]}, ${Math.round(c.ageMs / 60_000)} min old\n`);
    }
    if (selection.young.length > 0) process.stdout.write(`kept ${countOf(selection.young.length, 'object')} no index names yet (${formatBytes(selection.young.reduce((n, o) => n + o.bytes, 0))}): younger than 1 hour, a push may still be writing its entry\n`);
    if (selection.overLimit) process.stdout.write(`still above --max-size: the rest is used by videos.lock or newer than ${keepDays} days (--keep-days)\n`);
    if (!yes && (selection.entries.length > 0 || selection.objects.length > 0 || claimSet.stale.length > 0)) process.stdout.write('dry run: pass --yes to delete\n');
    return 0;
  } finally {
    await project.runLock?.release();
  }
}

/** Entries listed by name in the text output; --json has them all. */
const LISTED = 20;

type Listing = { readonly entries: readonly CacheEntry[]; readonly objects: readonly CacheObject[] };

async function listLocal(local: LocalCache): Promise<Result<Listing, { readonly message: string }>> {
  const entries: CacheEntry[] = [];
  for (const fp of await local.indexedFingerprints()) {
    const e = await local.lookup(fp);
    if (e !== undefined) entries.push(e);
  }
  return { ok: true, value: { entries, objects: await local.listObjects() } };
}

async function removeLocal(local: LocalCache, s: GcSelection): Promise<undefined> {
  for (const fp of s.entries) await local.removeEntry(fp);
  for (const o of s.objects) await local.removeObject(o.sha256);
  return undefined;
}

/** The first failure's message, or undefined. Stops there: an index entry is never left without its objects. */
async function removeRemote(store: ObjectStore, s: GcSelection): Promise<string | undefined> {
  for (const key of [...s.entries.map(remoteIndexKey), ...s.objects.map((o) => remoteObjectKey(o.sha256))]) {
    const done = await store.delete(key);
    if (!done.ok) return done.error.message;
  }
  return undefined;
}

const CLAIM_WHY: Readonly<Record<StaleClaim['why'], string>> = {
  settled: 'its job is in the index',
  'expired-done': 'no job id, past the intent window, inputs done',
  unreadable: 'not a claim (a write cut short), past the intent window',
};

async function removeClaims(store: ObjectStore, claims: readonly StaleClaim[]): Promise<string | undefined> {
  for (const c of claims) {
    const done = await store.delete(c.key);
    if (!done.ok) return done.error.message;
  }
  return undefined;
}
