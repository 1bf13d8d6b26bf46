import pLimit from 'p-limit';
import type { Fingerprint, Sha256 } from '../lock/lockfile.js';
import { LocalCache, variantsOf, type CacheEntry, type CachedAsset } from '../cache/local-cache.js';
import type { ObjectStore, RemoteError } from '../remote/object-store.js';
import { RemoteCache } from '../remote/remote-cache.js';
import type { AssetCache, CachedGeneration } from './asset-cache.js';
import { projectCache } from './local-cache-adapter.js';

/** What a run moved through the remote, for its closing line. */
export interface RemoteTransfer {
  readonly url: string;
  readonly fetched: { readonly objects: number; readonly bytes: number };
  readonly pushed: { readonly objects: number; readonly bytes: number; readonly entries: number };
  /** Entries that could not be pushed (the remote failed or went away): `vidbuild push` sends them later. */
  readonly unpushed: number;
}

/** The executor's cache, with the remote behind the local one; `drain` waits for the pushes. */
export interface RunCache extends AssetCache {
  drain(): Promise<RemoteTransfer | undefined>;
}

/** Pushes at once: uploads stream, each holds a couple of 8 MiB parts. */
const PUSH_CONCURRENCY = 2;

/**
 * The cache a run uses: the project's local cache, and when the team has a
 * reachable remote, that remote behind it. Reads go local first, then to
 * the remote (its objects are brought into the local cache, verified, then
 * restored from there as any local hit), so the job runner's last check
 * before paying and the asset writer's restores see what any teammate made.
 * Every asset added is pushed in the background (a small pool; `drain`
 * waits for it before the run ends).
 *
 * A remote failure is never a failed target: reads fall back to what the
 * plan decided without it, pushes become a warning and stop once the remote
 * is unreachable (nothing local is lost; `vidbuild push` sends them later).
 */
export function runCache(projectDir: string, store: ObjectStore | undefined, warn: (message: string) => void): RunCache {
  const local = projectCache(projectDir);
  if (store === undefined) return { ...local, drain: async () => undefined };
  const remote = new RemoteCache(store, new LocalCache(projectDir));
  const limit = pLimit(PUSH_CONCURRENCY);
  const pushes = new Map<Fingerprint, Promise<void>>();
  const queued = new Set<Fingerprint>();
  const remoteEntries = new Map<Fingerprint, Promise<CacheEntry | undefined>>();
  /** The remote entries this run looked up, by the objects they name: a restore by sha256 records them locally. */
  const remoteEntriesBySha = new Map<Sha256, CacheEntry[]>();
  const fetched = { objects: 0, bytes: 0 };
  const pushed = { objects: 0, bytes: 0, entries: 0 };
  const unpushed = new Set<Fingerprint>();
  let gone: RemoteError | undefined;
  const warned = new Set<string>();

  const failed = (error: RemoteError, what: string): void => {
    if (error.code === 'unreachable' || error.code === 'credentials' || error.code === 'no-bucket') gone ??= error;
    if (warned.has(error.code)) return;
    warned.add(error.code);
    warn(`${what}: ${error.message}`);
  };
  /** The remote's entry for a fingerprint, asked once per run. */
  const remoteEntry = (fp: Fingerprint): Promise<CacheEntry | undefined> => {
    let p = remoteEntries.get(fp);
    if (p === undefined) {
      p = (async () => {
        if (gone !== undefined) return undefined;
        const got = await remote.entry(fp);
        if (got.ok) {
          if (got.value !== undefined) {
            for (const v of variantsOf(got.value)) {
              const sha = got.value.assets[v]?.sha256;
              if (sha !== undefined) remoteEntriesBySha.set(sha, [...(remoteEntriesBySha.get(sha) ?? []), got.value]);
            }
          }
          return got.value;
        }
        failed(got.error, 'remote cache lookup failed');
        return undefined;
      })();
      remoteEntries.set(fp, p);
    }
    return p;
  };
  const fetchObject = async (asset: CachedAsset): Promise<boolean> => {
    if (gone !== undefined) return false;
    const got = await remote.fetchObject(asset);
    if (!got.ok) {
      failed(got.error, 'could not restore from the remote cache');
      return false;
    }
    if (got.value === 'fetched') {
      fetched.objects++;
      fetched.bytes += asset.bytes;
    }
    return true;
  };
  const pushOne = async (fp: Fingerprint): Promise<void> => {
    queued.delete(fp);
    if (gone !== undefined) {
      unpushed.add(fp);
      return;
    }
    const r = await remote.pushEntry(fp);
    if (!r.ok) {
      unpushed.add(fp);
      failed(r.error, 'could not push to the remote cache (kept locally; `vidbuild push` sends it later)');
      return;
    }
    unpushed.delete(fp);
    pushed.objects += r.value.objects;
    pushed.bytes += r.value.bytes;
    if (r.value.index) pushed.entries++;
  };
  /** One push per fingerprint at a time; an add during a push queues one more (the index grew). */
  const schedule = (fp: Fingerprint): void => {
    if (queued.has(fp)) return;
    queued.add(fp);
    const before = pushes.get(fp) ?? Promise.resolve();
    const next = before.then(() => limit(() => pushOne(fp)));
    pushes.set(fp, next);
  };

  return {
    async lookup(fp): Promise<CachedGeneration | undefined> {
      const hit = await local.lookup(fp);
      if (hit !== undefined) return hit;
      return remoteEntry(fp);
    },
    async add(record, variant, absFile, sha256, bytes) {
      await local.add(record, variant, absFile, sha256, bytes);
      schedule(record.fingerprint);
    },
    async restore(fp, variant, absDest) {
      if (await local.restore(fp, variant, absDest)) return true;
      const entry = await remoteEntry(fp);
      const asset = entry?.assets[variant];
      if (entry === undefined || asset === undefined || !(await fetchObject(asset))) return false;
      // Known locally from now on: the next plan restores without asking the remote.
      await new LocalCache(projectDir).recordEntry(entry).catch(() => undefined);
      return local.restore(fp, variant, absDest);
    },
    async restoreBytes(asset, absDest) {
      if (await local.restoreBytes(asset, absDest)) return true;
      if (!(await fetchObject(asset))) return false;
      // A pull restores by the lock's sha256: the entries naming these bytes are
      // known locally from now on too, so `push` and `remote status` from this
      // clone count them (recordEntry lists only the variants whose objects are here).
      for (const entry of remoteEntriesBySha.get(asset.sha256) ?? []) await remote.local.recordEntry(entry).catch(() => undefined);
      return local.restoreBytes(asset, absDest);
    },
    async characterFor(name, fileSha256) {
      const hit = await local.characterFor(name, fileSha256);
      if (hit !== undefined || gone !== undefined) return hit;
      const got = await remote.character(name, fileSha256);
      if (!got.ok) {
        failed(got.error, 'remote cache lookup failed');
        return undefined;
      }
      // Known locally from now on, as a restored entry is.
      if (got.value !== undefined) await local.rememberCharacter(name, fileSha256, got.value).catch(() => undefined);
      return got.value;
    },
    async rememberCharacter(name, fileSha256, character) {
      await local.rememberCharacter(name, fileSha256, character);
      if (gone !== undefined) return;
      // Awaited, not queued: a few hundred bytes, and the character's claim is settled once it is there.
      const pushedCharacter = await remote.pushCharacter(name, fileSha256, character);
      if (!pushedCharacter.ok) failed(pushedCharacter.error, 'could not push to the remote cache (kept locally; `vidbuild push` sends it later)');
    },
    // Locally only: the remote's record is the team's, and the remote has no delete here.
    forgetCharacter: async (name, fileSha256, characterId) => local.forgetCharacter(name, fileSha256, characterId),
    pushed: async (fp) => {
      await pushes.get(fp);
    },
    async drain() {
      while (pushes.size > 0) {
        const all = [...pushes.values()];
        pushes.clear();
        await Promise.all(all);
      }
      return { url: store.url, fetched: { ...fetched }, pushed: { ...pushed }, unpushed: unpushed.size };
    },
  };
}
