import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, rename, unlink } from 'node:fs/promises';
import { err, ok, type Result } from '../core/result.js';
import type { Fingerprint, Sha256 } from '../lock/lockfile.js';
import { isSha256 } from '../lock/lock-names.js';
import { characterRecordJson, entryJson, parseCharacterRecord, parseEntry, variantsOf, type CacheEntry, type CachedAsset, type CachedCharacter, type LocalCache } from '../cache/local-cache.js';
import type { CharacterName } from '../manifest/manifest.js';
import type { ObjectStore, RemoteError } from './object-store.js';
import { streamVerified } from './verified-download.js';

/** Where an entry lives in the remote, under its prefix: the local cache's own layout. */
export function remoteObjectKey(sha256: string): string {
  return `objects/${sha256.slice(0, 2)}/${sha256}`;
}

export function remoteIndexKey(fp: Fingerprint): string {
  return `index/${fp.slice('sha256:'.length)}.json`;
}

/**
 * A character created from a video with these bytes, as the local cache
 * remembers it: in the remote, any clone takes the same `char_…` id, so
 * the videos made with it keep their fingerprints, and their cache entries.
 */
export function remoteCharacterKey(name: CharacterName, fileSha256: Sha256): string {
  return `characters/${fileSha256}-${name}.json`;
}

/** What one push sent: objects uploaded, their bytes, and whether the index was written. */
export interface PushReport {
  readonly objects: number;
  readonly bytes: number;
  readonly index: boolean;
}

/**
 * The team's shared cache: the local cache's format (`objects/<sha[0:2]>/<sha256>`
 * and `index/<fingerprint-hex>.json`, the same JSON) in an object store, so an
 * entry round-trips between machines unchanged.
 *
 * Both directions are safe to retry and to resume by doing them again:
 * objects are immutable and named by their content, so a push skips what is
 * there (by a HEAD) and a fetch skips what the local cache has; the index is
 * written last on push and read first on fetch, so a reader never sees an
 * entry whose objects are not all there (unless gc removed them since, which
 * the fetch's sha256 check catches).
 */
export class RemoteCache {
  /**
   * Objects a fetch in this process found with the wrong bytes: a push
   * overwrites them (their HEAD size may well match), so the first clone
   * that has the verified bytes repairs the remote for the next ones.
   */
  private readonly corrupt = new Set<Sha256>();

  constructor(
    readonly store: ObjectStore,
    readonly local: LocalCache,
  ) {}

  /** The remote's index entry for these inputs, or undefined (also for one that does not parse). */
  async entry(fp: Fingerprint): Promise<Result<CacheEntry | undefined, RemoteError>> {
    const raw = await this.store.getText(remoteIndexKey(fp));
    if (!raw.ok) return raw;
    if (raw.value === undefined) return ok(undefined);
    const entry = parseEntry(raw.value);
    return ok(entry?.fingerprint === fp ? entry : undefined);
  }

  /** The character the team created from these bytes under this name, or undefined (also for a record that does not parse). */
  async character(name: CharacterName, fileSha256: Sha256): Promise<Result<CachedCharacter | undefined, RemoteError>> {
    const raw = await this.store.getText(remoteCharacterKey(name, fileSha256));
    if (!raw.ok) return raw;
    return ok(raw.value === undefined ? undefined : parseCharacterRecord(raw.value));
  }

  /** Records a character for the team; the first one recorded stays (every clone then takes that id). */
  async pushCharacter(name: CharacterName, fileSha256: Sha256, character: CachedCharacter): Promise<Result<void, RemoteError>> {
    const theirs = await this.character(name, fileSha256);
    if (!theirs.ok) return theirs;
    if (theirs.value !== undefined) return ok(undefined);
    const put = await this.store.putText(remoteCharacterKey(name, fileSha256), characterRecordJson(name, fileSha256, character));
    return put.ok ? ok(undefined) : put;
  }

  /**
   * Whether the remote holds this object with its bytes: its size, and for a
   * single-part upload (an ETag of 32 hex digits, S3's MD5 of the body) the
   * MD5 of our local copy, a local read rather than a download. An object a
   * fetch in this process found corrupt is not there, whatever its HEAD says.
   */
  async hasObject(asset: CachedAsset): Promise<Result<boolean, RemoteError>> {
    if (this.corrupt.has(asset.sha256)) return ok(false);
    const head = await this.store.head(remoteObjectKey(asset.sha256));
    if (!head.ok) return head;
    if (head.value?.bytes !== asset.bytes) return ok(false);
    const etag = head.value.etag?.toLowerCase();
    if (etag === undefined || !/^[0-9a-f]{32}$/.test(etag)) return ok(true);
    const local = await this.local.objectToRead(asset.sha256);
    const md5 = local === undefined ? undefined : await md5File(local);
    return ok(md5 === undefined || md5 === etag);
  }

  /**
   * Brings one object into the local cache: streamed to a temp file beside
   * its place, hashed while written, size and sha256 checked, then renamed.
   * Memory stays flat for any size. A corrupt or missing remote object is an
   * error (`failed`); nothing half-written is left in the cache.
   */
  async fetchObject(asset: CachedAsset): Promise<Result<'fetched' | 'present', RemoteError>> {
    // Through the local cache's checks: a linked folder in it is refused, never written through.
    if (await this.local.hasObject(asset)) return ok('present');
    const got = await this.store.getStream(remoteObjectKey(asset.sha256));
    if (!got.ok) return got;
    if (got.value === undefined) return err({ code: 'failed', message: `${this.store.url}: object ${asset.sha256} is listed but not there` });
    const { dest, tmp } = await this.local.objectSlot(asset.sha256);
    try {
      const written = await streamVerified(got.value.body, tmp, asset);
      if (!written.ok) {
        this.corrupt.add(asset.sha256);
        return err({ code: 'failed', message: `${this.store.url}: object ${asset.sha256} ${written.error}` });
      }
      await chmod(tmp, 0o444);
      await rename(tmp, dest);
      return ok('fetched');
    } catch (e: unknown) {
      // A broken connection mid-body: the remote went away.
      return err({ code: 'unreachable', message: `${this.store.url}: download of ${asset.sha256} broke off (${e instanceof Error ? e.message : String(e)})` });
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /**
   * Brings a whole entry (its objects, then its index) into the local cache.
   * `undefined` when the remote has no entry for these inputs.
   */
  async fetchEntry(fp: Fingerprint): Promise<Result<CacheEntry | undefined, RemoteError>> {
    const entry = await this.entry(fp);
    if (!entry.ok || entry.value === undefined) return entry;
    for (const v of variantsOf(entry.value)) {
      const asset = entry.value.assets[v];
      if (asset === undefined) continue;
      const fetched = await this.fetchObject(asset);
      if (!fetched.ok) return fetched;
    }
    await this.local.recordEntry(entry.value);
    return ok(entry.value);
  }

  /**
   * Sends a local entry: the objects the remote lacks, then the index. An
   * index the remote already has for another job with every variant of
   * ours is kept (a teammate's take is as good, and overwriting it would
   * strand their lock's objects from gc's point of view); ours then only
   * adds objects, which a lock naming them can still restore by sha256.
   */
  async pushEntry(fp: Fingerprint): Promise<Result<PushReport, RemoteError>> {
    const entry = await this.local.lookup(fp);
    if (entry === undefined) return ok({ objects: 0, bytes: 0, index: false });
    let objects = 0;
    let bytes = 0;
    for (const v of variantsOf(entry)) {
      const asset = entry.assets[v];
      if (asset === undefined) continue;
      const there = await this.hasObject(asset);
      if (!there.ok) return there;
      if (there.value) continue;
      // Read through the local cache's checks (a missing file fails in putFile, as before).
      const file = (await this.local.objectToRead(asset.sha256)) ?? this.local.objectPath(asset.sha256);
      const put = await this.store.putFile(remoteObjectKey(asset.sha256), file, asset.bytes);
      if (!put.ok) return put;
      this.corrupt.delete(asset.sha256);
      objects++;
      bytes += asset.bytes;
    }
    const remote = await this.entry(fp);
    if (!remote.ok) return remote;
    const theirs = remote.value;
    const mine = variantsOf(entry);
    const covered = theirs !== undefined && [...mine].every((v) => theirs.assets[v] !== undefined);
    if (covered && (theirs.jobId !== entry.jobId || sameAssets(theirs, entry))) return ok({ objects, bytes, index: false });
    const merged: CacheEntry = theirs?.jobId === entry.jobId ? { ...entry, assets: { ...theirs.assets, ...entry.assets } } : entry;
    const put = await this.store.putText(remoteIndexKey(fp), entryJson(merged));
    if (!put.ok) return put;
    return ok({ objects, bytes, index: true });
  }
}

/** Every entry and object the remote holds (for gc and `remote status`): two listings, one GET per entry. */
export async function listRemoteCache(store: ObjectStore): Promise<Result<{ readonly entries: readonly CacheEntry[]; readonly objects: readonly { readonly sha256: Sha256; readonly bytes: number; readonly modifiedAt: Date }[]; readonly indexKeys: number }, RemoteError>> {
  const objects = await store.list('objects/');
  if (!objects.ok) return objects;
  const index = await store.list('index/');
  if (!index.ok) return index;
  const entries: CacheEntry[] = [];
  for (const item of index.value) {
    const raw = await store.getText(item.key);
    if (!raw.ok) return raw;
    const entry = raw.value === undefined ? undefined : parseEntry(raw.value);
    if (entry !== undefined && remoteIndexKey(entry.fingerprint) === item.key) entries.push(entry);
  }
  const shas: { sha256: Sha256; bytes: number; modifiedAt: Date }[] = [];
  for (const o of objects.value) {
    const sha = o.key.slice(o.key.lastIndexOf('/') + 1);
    if (isSha256(sha) && remoteObjectKey(sha) === o.key) shas.push({ sha256: sha, bytes: o.bytes, modifiedAt: o.lastModified });
  }
  return ok({ entries, objects: shas, indexKeys: index.value.length });
}

function sameAssets(a: CacheEntry, b: CacheEntry): boolean {
  return [...variantsOf(b)].every((v) => a.assets[v]?.sha256 === b.assets[v]?.sha256);
}

/** The MD5 of a local file (to compare with a single-part ETag), or undefined when it cannot be read. */
async function md5File(file: string): Promise<string | undefined> {
  const hash = createHash('md5');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch {
    return undefined;
  }
  return hash.digest('hex');
}
