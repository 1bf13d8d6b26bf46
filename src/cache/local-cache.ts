import { parseJsonObject } from '../core/json-object.js';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, copyFile, constants, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import type { AssetVariant, CharacterName, TargetKind, TargetName } from '../manifest/manifest.js';
import type { CharacterId, Fingerprint, JobId, Sha256 } from '../lock/lockfile.js';
import { isCharacterId, isFingerprint, isSha256 } from '../lock/lock-names.js';
import { makeDirs } from '../core/make-dirs.js';
import { LinkFreeTree } from '../core/link-free-tree.js';
import { entryJson, isIsoTime, parseEntry } from './cache-entry.js';

export { entryJson, parseEntry };

/** Everything the cache remembers about one generation besides its bytes. */
export interface CacheEntryMeta {
  readonly name: TargetName;
  readonly kind: TargetKind;
  readonly prompt: string;
  readonly model: string;
  readonly size: string;
  readonly seconds: number;
  readonly jobId: JobId;
  /** ISO time the job was created. */
  readonly createdAt: string;
  /**
   * When the job completed and when its remote assets expire (ISO), so that
   * a target restored from the cache gets the same lock entry the job had
   * (a reverted commit's lock diff is empty, `status` shows the expiry).
   * Absent in entries written before they were recorded.
   */
  readonly completedAt?: string;
  readonly expiresAt?: string;
}

export interface CachedAsset {
  readonly sha256: Sha256;
  readonly bytes: number;
}

/** `index/<fingerprint-hex>.json`. */
export interface CacheEntry extends CacheEntryMeta {
  readonly fingerprint: Fingerprint;
  readonly assets: Readonly<Partial<Record<AssetVariant, CachedAsset>>>;
}

export interface CachedCharacter {
  readonly characterId: CharacterId;
  readonly createdAt: string;
}

export type RestoreResult =
  | { readonly ok: true; readonly bytes: number; readonly sha256: Sha256 }
  | { readonly ok: false; readonly reason: 'not-cached' | 'object-missing' | 'object-corrupt' };

const VARIANTS: readonly AssetVariant[] = ['video', 'thumbnail', 'spritesheet'];

/**
 * The content-addressed local cache under `<projectDir>/.vidbuild/cache`:
 * `objects/<sha[0:2]>/<sha256>` are immutable blobs, and
 * `index/<fingerprint-hex>.json` says which blobs a fingerprint produced. It
 * is what makes reverting a prompt or moving an output free: no API call, no
 * download.
 *
 * Objects are copied in and copied out (a reflink when the file system can),
 * so editing an output in place never corrupts the cache; every restore
 * re-verifies the object's sha256 first.
 *
 * Nothing below the root may be a symlink (core/link-free-tree.ts): every
 * read, write and delete here checks its folder first, and one leading
 * anywhere is refused with a `LinkInTreeError` rather than gone through.
 */
export class LocalCache {
  readonly root: string;
  readonly #tree: LinkFreeTree;

  constructor(readonly projectDir: string) {
    this.root = path.join(projectDir, '.vidbuild', 'cache');
    this.#tree = new LinkFreeTree(this.root, projectDir);
  }

  objectPath(sha256: Sha256): string {
    return path.join(this.root, 'objects', sha256.slice(0, 2), sha256);
  }

  indexPath(fp: Fingerprint): string {
    return path.join(this.root, 'index', `${fp.slice('sha256:'.length)}.json`);
  }

  /**
   * The index entry for a fingerprint, or undefined (also for an unreadable
   * entry: the cache is an optimisation). Only assets whose object is there
   * with its size are listed: an index can outlive its objects (deleted by
   * hand, removed as corrupt on a restore), and a plan that counted on them
   * would try the same failing restore on every run instead of saying
   * `regenerate`.
   */
  async lookup(fp: Fingerprint): Promise<CacheEntry | undefined> {
    const raw = await this.#readText(this.indexPath(fp));
    if (raw === undefined) return undefined;
    const entry = parseEntry(raw);
    if (entry?.fingerprint !== fp) return undefined;
    const assets: Partial<Record<AssetVariant, CachedAsset>> = {};
    await Promise.all(
      VARIANTS.map(async (v) => {
        const a = entry.assets[v];
        if (a !== undefined && (await this.hasObject(a))) assets[v] = a;
      }),
    );
    return { ...entry, assets };
  }

  /** Variants whose index says they are cached (the object's presence is checked on restore). */
  async variantsFor(fp: Fingerprint): Promise<ReadonlySet<AssetVariant>> {
    const entry = await this.lookup(fp);
    return variantsOf(entry);
  }

  /** Fingerprints that have an index entry, from one directory listing. */
  async indexedFingerprints(): Promise<ReadonlySet<Fingerprint>> {
    const names = await this.#list(path.join(this.root, 'index'));
    const out = new Set<Fingerprint>();
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      const fp = `sha256:${n.slice(0, -'.json'.length)}`;
      if (isFingerprint(fp)) out.add(fp);
    }
    return out;
  }

  /**
   * Adds one asset of a generation: the file's bytes become an object (if not
   * already there) and the fingerprint's index records the variant. `sha256`
   * and `bytes` are what the caller measured while writing the file; the copy
   * is re-hashed so a file that changed underneath never enters the cache.
   */
  async addAsset(
    fp: Fingerprint,
    meta: CacheEntryMeta,
    variant: AssetVariant,
    absFile: string,
    sha256: Sha256,
    bytes: number,
  ): Promise<void> {
    const object = this.objectPath(sha256);
    if (!(await this.hasObject({ sha256, bytes }))) {
      await this.#tree.folder(path.dirname(object), true);
      const tmp = tempNear(object);
      try {
        await copyFile(absFile, tmp, constants.COPYFILE_FICLONE);
        const got = await hashFile(tmp);
        if (got.sha256 !== sha256 || got.bytes !== bytes) {
          throw new Error(`cache: ${absFile} changed while being cached (expected ${sha256}, got ${got.sha256})`);
        }
        await chmod(tmp, 0o444);
        await rename(tmp, object);
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
    }
    // Variants of one job download concurrently; the index update is a
    // read-modify-write, so updates of one index file are serialized.
    await serializedByPath(this.indexPath(fp), async () => {
      const previous = await this.lookup(fp);
      const entry: CacheEntry = {
        ...meta,
        fingerprint: fp,
        assets: { ...(previous?.jobId === meta.jobId ? previous.assets : {}), [variant]: { sha256, bytes } },
      };
      await this.#writeText(this.indexPath(fp), entryJson(entry));
    });
  }

  /**
   * Writes an index entry that came from elsewhere (the team's remote cache,
   * remote/remote-cache.ts) once its objects are in place. An entry of the
   * same job keeps the variants it had; one of another job is left alone
   * when it is complete for what this one brings (a local second take wins
   * over the remote's, as a local add does).
   */
  async recordEntry(entry: CacheEntry): Promise<void> {
    await serializedByPath(this.indexPath(entry.fingerprint), async () => {
      const previous = await this.lookup(entry.fingerprint);
      if (previous !== undefined && previous.jobId !== entry.jobId && [...variantsOf(entry)].every((v) => previous.assets[v] !== undefined)) return;
      const merged: CacheEntry = { ...entry, assets: { ...(previous?.jobId === entry.jobId ? previous.assets : {}), ...entry.assets } };
      await this.#writeText(this.indexPath(entry.fingerprint), entryJson(merged));
    });
  }

  /** Whether the object is there with this size (its folder checked: a link is refused, not followed). */
  async hasObject(asset: CachedAsset): Promise<boolean> {
    const st = await this.#tree.fileStat(this.objectPath(asset.sha256));
    return st !== undefined && st.isFile() && st.size === asset.bytes;
  }

  /**
   * Where an object goes, its folder made and checked, and a temp path
   * beside it named as the run's sweep of stale temp files expects (so a
   * killed download into the cache leaves nothing behind).
   */
  async objectSlot(sha256: Sha256): Promise<{ readonly dest: string; readonly tmp: string }> {
    const dest = this.objectPath(sha256);
    await this.#tree.folder(path.dirname(dest), true);
    return { dest, tmp: tempNear(dest) };
  }

  /** The object's path to read it from (for a push), or undefined when it is not a file there. */
  async objectToRead(sha256: Sha256): Promise<string | undefined> {
    const file = this.objectPath(sha256);
    return (await this.#tree.fileStat(file))?.isFile() === true ? file : undefined;
  }

  /**
   * Materializes a cached variant at `absDest` (temp + rename, so the
   * destination is never half-written). The object is verified first; a
   * corrupt object is removed so the next plan stops counting on it.
   */
  async restoreTo(fp: Fingerprint, variant: AssetVariant, absDest: string): Promise<RestoreResult> {
    const entry = await this.lookup(fp);
    const asset = entry?.assets[variant];
    if (asset === undefined) return { ok: false, reason: 'not-cached' };
    return this.restoreObject(asset, absDest);
  }

  /**
   * Materializes the object with exactly these bytes at `absDest`, whatever
   * index entry (if any) points at it: what the lock records for an output
   * is its sha256, and the index of a fingerprint may meanwhile name another
   * job with the same inputs (a second take of the same prompt, a --replace).
   */
  async restoreObject(asset: CachedAsset, absDest: string): Promise<RestoreResult> {
    const object = this.objectPath(asset.sha256);
    if ((await this.#tree.fileStat(object)) === undefined) return { ok: false, reason: 'object-missing' };
    let got: { sha256: string; bytes: number };
    try {
      got = await hashFile(object, true);
    } catch {
      return { ok: false, reason: 'object-missing' };
    }
    if (got.sha256 !== asset.sha256 || got.bytes !== asset.bytes) {
      await unlink(object).catch(() => undefined);
      return { ok: false, reason: 'object-corrupt' };
    }
    await makeDirs(path.dirname(absDest));
    const tmp = tempNear(absDest);
    try {
      // A copy (a reflink where the file system can), never a hard link: a
      // linked output edited in place (by a tool, or by root, whom the
      // object's read-only mode does not stop) would corrupt the only copy
      // of a paid video once its remote copy has expired.
      await copyFile(object, tmp, constants.COPYFILE_FICLONE);
      // A copy of a read-only object is read-only too; the user's output should not be.
      await chmod(tmp, 0o644);
      await rename(tmp, absDest);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    return { ok: true, bytes: asset.bytes, sha256: asset.sha256 };
  }

  characterPath(name: CharacterName, fileSha256: Sha256): string {
    return path.join(this.root, 'characters', `${fileSha256}-${name}.json`);
  }

  /**
   * The character once created under this name from a video with these
   * bytes. Characters are not content, so they have no objects: only the id,
   * which lets a reverted character video get its old id back, and with it
   * the cached videos that were made with it.
   */
  async characterFor(name: CharacterName, fileSha256: Sha256): Promise<CachedCharacter | undefined> {
    const raw = await this.#readText(this.characterPath(name, fileSha256));
    return raw === undefined ? undefined : parseCharacterRecord(raw);
  }

  async rememberCharacter(name: CharacterName, fileSha256: Sha256, character: CachedCharacter): Promise<void> {
    await this.#writeText(this.characterPath(name, fileSha256), characterRecordJson(name, fileSha256, character));
  }

  /**
   * Forgets the character remembered for these bytes, if it is still this
   * one: the API said it no longer exists, so the next plan must not count
   * on taking it again.
   */
  async forgetCharacter(name: CharacterName, fileSha256: Sha256, characterId: CharacterId): Promise<void> {
    if ((await this.characterFor(name, fileSha256))?.characterId !== characterId) return;
    await unlink(this.characterPath(name, fileSha256)).catch(() => undefined);
  }

  /** Every remembered character (for `vidbuild push`); a file that does not parse is left out. */
  async listCharacters(): Promise<readonly { readonly name: CharacterName; readonly fileSha256: Sha256; readonly character: CachedCharacter }[]> {
    const out: { name: CharacterName; fileSha256: Sha256; character: CachedCharacter }[] = [];
    const dir = path.join(this.root, 'characters');
    for (const file of await this.#list(dir)) {
      const m = /^([0-9a-f]{64})-(.+)\.json$/.exec(file);
      if (m === null) continue;
      const raw = await this.#readText(path.join(dir, file));
      const character = raw === undefined ? undefined : parseCharacterRecord(raw);
      const record = raw === undefined ? undefined : (parseJsonObject(raw) as { name?: unknown } | undefined);
      // The name inside is the one the manifest used; the file name only finds it.
      if (character === undefined || record?.name !== m[2] || m[1] === undefined) continue;
      out.push({ name: m[2] as CharacterName, fileSha256: m[1] as Sha256, character });
    }
    return out;
  }

  /** Every object with its size (for gc), from one listing per shard folder. */
  async listObjects(): Promise<readonly { readonly sha256: Sha256; readonly bytes: number }[]> {
    const out: { sha256: Sha256; bytes: number }[] = [];
    const objects = path.join(this.root, 'objects');
    for (const shard of await this.#list(objects)) {
      for (const name of await this.#list(path.join(objects, shard))) {
        if (!isSha256(name)) continue;
        const st = await this.#tree.fileStat(path.join(objects, shard, name));
        if (st?.isFile() === true) out.push({ sha256: name, bytes: st.size });
      }
    }
    return out;
  }

  /** Removes an index entry (gc; its objects go separately, after it). */
  async removeEntry(fp: Fingerprint): Promise<void> {
    await this.#remove(this.indexPath(fp));
  }

  async removeObject(sha256: Sha256): Promise<void> {
    await this.#remove(this.objectPath(sha256));
  }

  /** A file's text, or undefined when it is missing or unreadable (the cache is an optimisation); a link is refused. */
  async #readText(file: string): Promise<string | undefined> {
    if (!(await this.#tree.folder(path.dirname(file), false))) return undefined;
    try {
      // O_NOFOLLOW: a link in the file's own place fails (ELOOP) instead of being read.
      return await readFile(file, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
    } catch (e: unknown) {
      if (e instanceof Error && Reflect.get(e, 'code') === 'ELOOP') throw await this.#tree.linkError(file);
      return undefined;
    }
  }

  /** Writes a small file atomically (write-file-atomic writes where a link leads: one there is refused). */
  async #writeText(file: string, text: string): Promise<void> {
    await this.#tree.folder(path.dirname(file), true);
    await this.#tree.fileStat(file);
    await writeFileAtomic(file, text, { fsync: true });
  }

  /** A folder's names (none when it is missing); a folder with a link in it is refused. */
  async #list(dir: string): Promise<string[]> {
    if (!(await this.#tree.folder(dir, false))) return [];
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    await this.#tree.refuseLinksIn(dir, entries);
    return entries.map((d) => d.name);
  }

  /** Deletes a file of the cache, never through a linked folder. */
  async #remove(file: string): Promise<void> {
    if ((await this.#tree.fileStat(file)) === undefined) return;
    await unlink(file).catch(() => undefined);
  }

  /** Every cached generation of a target, newest first (for watch's history of earlier versions). */
  async entriesForTarget(name: TargetName): Promise<readonly CacheEntry[]> {
    const out: CacheEntry[] = [];
    for (const fp of await this.indexedFingerprints()) {
      const entry = await this.lookup(fp);
      if (entry !== undefined && entry.name === name) out.push(entry);
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }
}

/**
 * Index files being updated in this process, by absolute path. Shared by all
 * LocalCache instances (watch uses several for one project), hence module
 * level; entries are removed as soon as their chain drains.
 */
const indexUpdates = new Map<string, Promise<void>>();

async function serializedByPath(key: string, update: () => Promise<void>): Promise<void> {
  const before = indexUpdates.get(key) ?? Promise.resolve();
  const mine = before.then(update, update);
  const tail = mine.catch(() => undefined);
  indexUpdates.set(key, tail);
  try {
    await mine;
  } finally {
    if (indexUpdates.get(key) === tail) indexUpdates.delete(key);
  }
}

export function variantsOf(entry: CacheEntry | undefined): ReadonlySet<AssetVariant> {
  const out = new Set<AssetVariant>();
  if (entry === undefined) return out;
  for (const v of VARIANTS) if (entry.assets[v] !== undefined) out.add(v);
  return out;
}

/** Streams a file through sha256 (videos can be large; never read whole). */
export async function hashFile(absFile: string, noFollow = false): Promise<{ sha256: Sha256; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  // O_NOFOLLOW (for a file in the cache): a link in its place fails instead of being read.
  const handle = await open(absFile, noFollow ? constants.O_RDONLY | constants.O_NOFOLLOW : 'r');
  for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 20 })) {
    if (!(chunk instanceof Buffer)) throw new Error('unexpected string chunk');
    hash.update(chunk);
    bytes += chunk.length;
  }
  const hex = hash.digest('hex');
  if (!isSha256(hex)) throw new Error('bad digest');
  return { sha256: hex, bytes };
}

function tempNear(file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** A remembered character as stored (here and in the team's remote, remote-cache.ts). */
export function characterRecordJson(name: CharacterName, fileSha256: Sha256, character: CachedCharacter): string {
  return `${JSON.stringify({ name, fileSha256, ...character }, null, 2)}\n`;
}

/** The character a stored record names, or undefined for one that does not parse. */
export function parseCharacterRecord(raw: string): CachedCharacter | undefined {
  const v = parseJsonObject(raw);
  if (v === undefined) return undefined;
  const id: unknown = Reflect.get(v, 'characterId');
  const createdAt: unknown = Reflect.get(v, 'createdAt');
  if (typeof id !== 'string' || !isCharacterId(id) || !isIsoTime(createdAt)) return undefined;
  return { characterId: id, createdAt };
}
