import path from 'node:path';
import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { Diagnostic } from '../core/diagnostic.js';
import type { AssetVariant, CharacterName, Manifest, ProjectPath } from '../manifest/manifest.js';
import { referencedFilesOf } from '../manifest/manifest.js';
import type { Fingerprint, Lockfile, Sha256 } from '../lock/lockfile.js';
import { sha256Of } from '../lock/lock-names.js';
import { LocalCache, hashFile, variantsOf } from '../cache/local-cache.js';
import type { DiskFacts, KnownCharacter } from './plan.js';
import { RACY_WINDOW_MS, loadHashCache, saveHashCache, type HashCacheEntry } from './hash-cache.js';

export interface GatherOptions {
  readonly now?: Date;
  /** Keep and reuse `.vidbuild/hash-cache.json` (default true). */
  readonly useHashCache?: boolean;
}

/** Files smaller than this are read whole; larger ones are streamed through the hash. */
const STREAM_ABOVE = 4 << 20;
/** Hashes in flight at once (the thread pool has 4 threads; a few more keeps it busy). */
const HASH_CONCURRENCY = 8;

type FileFact = { readonly bytes: number; readonly sha256: Sha256 } | undefined;

/**
 * The I/O edge of planning: what is on disk, as plain data for the pure
 * planner. Hashes every file the manifest references, checks every output the
 * manifest or the lock names (exists, bytes, sha256 — through the stat-keyed
 * hash cache), and asks the local cache about targets whose outputs need
 * restoring and about characters whose video is not the locked one. Never follows a symlink out of the project: such a path counts
 * as absent and is reported as a warning.
 */
export async function gatherDiskFacts(manifest: Manifest, lock: Lockfile, options: GatherOptions = {}): Promise<DiskFacts> {
  const now = options.now ?? new Date();
  const useCache = options.useHashCache ?? true;
  const projectDir = manifest.projectDir;
  const root = realpathSync.native(projectDir);
  const warnings: Diagnostic[] = [];
  const previous = useCache ? await loadHashCache(projectDir) : new Map<string, HashCacheEntry>();
  const next = new Map<string, HashCacheEntry>();
  const realDirs = new Map<string, string | undefined>();
  const hashStarted = Date.now();
  let dirty = false;

  /** Real path of a directory inside the project, or undefined if it is missing or leads out. */
  const realDir = (absDir: string): string | undefined => {
    let real = realDirs.get(absDir);
    if (real !== undefined || realDirs.has(absDir)) return real;
    try {
      const r = realpathSync.native(absDir);
      real = isInside(root, r) ? r : undefined;
    } catch {
      real = undefined;
    }
    realDirs.set(absDir, real);
    return real;
  };

  /** Stats a project file without leaving the project; undefined when absent, not a file, or outside. */
  const statInside = (rel: ProjectPath): { abs: string; st: Stats } | undefined => {
    const abs = path.join(projectDir, rel);
    const dir = path.dirname(abs);
    const real = realDir(dir);
    if (real === undefined) {
      if (dirExists(dir)) warnings.push(outside(rel));
      return undefined;
    }
    let st: Stats | undefined;
    try {
      // No exception for the common "output not made yet" case: a throw costs more than the stat.
      st = lstatSync(abs, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    if (st === undefined) return undefined;
    if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = realpathSync.native(abs);
      } catch {
        return undefined; // dangling link
      }
      if (!isInside(root, target)) {
        warnings.push(outside(rel));
        return undefined;
      }
      try {
        st = statSync(target);
      } catch {
        return undefined;
      }
      return st.isFile() ? { abs: target, st } : undefined;
    }
    return st.isFile() ? { abs, st } : undefined;
  };

  const pending: { rel: ProjectPath; abs: string; st: Stats; resolve: (f: FileFact) => void }[] = [];
  const facts = new Map<ProjectPath, Promise<FileFact> | FileFact>();

  const factFor = (rel: ProjectPath): void => {
    if (facts.has(rel)) return;
    const found = statInside(rel);
    if (found === undefined) {
      facts.set(rel, undefined);
      return;
    }
    const { abs, st } = found;
    const hit = previous.get(rel);
    if (hit !== undefined && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit.ino === st.ino) {
      next.set(rel, hit);
      facts.set(rel, { bytes: st.size, sha256: hit.sha256 });
      return;
    }
    facts.set(rel, new Promise<FileFact>((resolve) => pending.push({ rel, abs, st, resolve })));
  };

  // Everything the plan may ask about.
  const referenced = new Set<ProjectPath>();
  const outputPaths = new Set<ProjectPath>();
  for (const c of manifest.characters.values()) referenced.add(c.video);
  for (const t of manifest.targets.values()) {
    for (const p of referencedFilesOf(t)) referenced.add(p);
    for (const p of Object.values(t.outputs)) if (p !== undefined) outputPaths.add(p);
  }
  for (const entry of Object.values(lock.videos)) {
    for (const a of Object.values(entry.assets)) if (a !== undefined) outputPaths.add(a.path);
  }
  for (const p of outputPaths) factFor(p);
  for (const p of referenced) factFor(p);

  // Hash what the cache could not vouch for, a few at a time.
  let cursor = 0;
  const worker = async (): Promise<void> => {
    while (cursor < pending.length) {
      const job = pending[cursor++];
      if (job === undefined) break;
      try {
        const sha256 = job.st.size > STREAM_ABOVE ? (await hashFile(job.abs)).sha256 : sha256Of(createHash('sha256').update(await readFile(job.abs)).digest('hex'));
        if (job.st.mtimeMs < hashStarted - RACY_WINDOW_MS) {
          next.set(job.rel, { size: job.st.size, mtimeMs: job.st.mtimeMs, ino: job.st.ino, sha256 });
          dirty = true;
        }
        job.resolve({ bytes: job.st.size, sha256 });
      } catch {
        job.resolve(undefined); // vanished or unreadable between stat and read
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(HASH_CONCURRENCY, pending.length) }, worker));

  const fileHashes = new Map<ProjectPath, Sha256>();
  const outputs = new Map<ProjectPath, FileFact>();
  for (const [rel, f] of facts) {
    const fact = await f;
    if (referenced.has(rel) && fact !== undefined) fileHashes.set(rel, fact.sha256);
    if (outputPaths.has(rel)) outputs.set(rel, fact);
  }

  const cache = await cacheFacts(manifest, lock, outputs);
  const knownCharacters = await characterFacts(manifest, lock, fileHashes);
  if (useCache && (dirty || next.size !== previous.size)) await saveHashCache(projectDir, next);
  return { fileHashes, outputs, cache, ...(knownCharacters.size === 0 ? {} : { knownCharacters }), now, warnings };
}

/**
 * The characters the local cache remembers for the bytes each character's
 * video has now, read only for those the lock does not already hold with
 * these bytes (one small file each): a reverted video then plans as the
 * reuse apply makes of it, not as a new character.
 */
async function characterFacts(
  manifest: Manifest,
  lock: Lockfile,
  fileHashes: ReadonlyMap<ProjectPath, Sha256>,
): Promise<Map<CharacterName, KnownCharacter>> {
  const out = new Map<CharacterName, KnownCharacter>();
  const cache = new LocalCache(manifest.projectDir);
  for (const c of manifest.characters.values()) {
    const sha = fileHashes.get(c.video);
    if (sha === undefined) continue;
    const locked = Object.hasOwn(lock.characters, c.name) ? lock.characters[c.name] : undefined;
    if (locked !== undefined && locked.fileSha256 === sha && locked.job.state === 'created') continue;
    const known = await cache.characterFor(c.name, sha);
    if (known !== undefined) out.set(c.name, { fileSha256: sha, ...known });
  }
  return out;
}

/**
 * The cache index is only read for locked targets with an output that is not
 * on disk as locked: those are the only ones the planner may restore, and
 * reading 10k index files on every plan would cost more than the plan.
 */
async function cacheFacts(
  manifest: Manifest,
  lock: Lockfile,
  outputs: ReadonlyMap<ProjectPath, FileFact>,
): Promise<Map<Fingerprint, ReadonlySet<AssetVariant>>> {
  const out = new Map<Fingerprint, ReadonlySet<AssetVariant>>();
  const wanted: Fingerprint[] = [];
  for (const t of manifest.targets.values()) {
    const locked = Object.hasOwn(lock.videos, t.name) ? lock.videos[t.name] : undefined;
    if (locked === undefined) continue;
    const satisfied = t.assets.every((v) => {
      const p = t.outputs[v];
      const a = locked.assets[v];
      return p === undefined || (a !== undefined && outputs.get(p)?.sha256 === a.sha256);
    });
    if (!satisfied) wanted.push(locked.fingerprint);
  }
  if (wanted.length === 0) return out;
  const cache = new LocalCache(manifest.projectDir);
  const indexed = await cache.indexedFingerprints();
  for (const fp of wanted) {
    if (!indexed.has(fp) || out.has(fp)) continue;
    out.set(fp, variantsOf(await cache.lookup(fp)));
  }
  return out;
}

function isInside(root: string, real: string): boolean {
  return real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

function dirExists(abs: string): boolean {
  try {
    return lstatSync(abs).isDirectory() || lstatSync(abs).isSymbolicLink();
  } catch {
    return false;
  }
}

function outside(rel: string): Diagnostic {
  return {
    code: 'symlink-outside',
    severity: 'warning',
    message: `${rel} is a symlink (or inside one) that leads outside the project; vidbuild does not follow it`,
  };
}
