import { parseJsonObject } from '../core/json-object.js';
import path from 'node:path';
import { lstat, mkdir, readFile, realpath } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import type { Sha256 } from '../lock/lockfile.js';
import { isSha256 } from '../lock/lock-names.js';

/**
 * `.vidbuild/hash-cache.json`: the sha256 of project files keyed by path,
 * valid while (size, mtimeMs, ino) are unchanged — the same bargain git's
 * index makes — so planning 10k targets does not re-read 10k videos.
 */
export interface HashCacheEntry {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
  readonly sha256: Sha256;
}

export const HASH_CACHE_PATH = path.join('.vidbuild', 'hash-cache.json');
const VERSION = 1;

/**
 * A file modified within this window of being hashed may change again within
 * the same mtime tick (coarse file-system clocks); such hashes are not kept.
 */
export const RACY_WINDOW_MS = 2000;

export async function loadHashCache(projectDir: string): Promise<Map<string, HashCacheEntry>> {
  const out = new Map<string, HashCacheEntry>();
  let raw: string;
  try {
    const file = path.join(projectDir, HASH_CACHE_PATH);
    // Only a cache that is really inside the project vouches for project files.
    if (!(await stateDirInside(projectDir, false)) || !(await lstat(file)).isFile()) return out;
    raw = await readFile(file, 'utf8');
  } catch {
    return out;
  }
  // A damaged cache only costs a rehash.
  const v = parseJsonObject(raw);
  if (v === undefined || Reflect.get(v, 'version') !== VERSION) return out;
  const files: unknown = Reflect.get(v, 'files');
  if (typeof files !== 'object' || files === null) return out;
  for (const [p, e] of Object.entries(files)) {
    if (!Array.isArray(e) || e.length !== 4) continue;
    const [size, mtimeMs, ino, sha256]: unknown[] = e;
    if (typeof size === 'number' && typeof mtimeMs === 'number' && typeof ino === 'number' && typeof sha256 === 'string' && isSha256(sha256)) {
      out.set(p, { size, mtimeMs, ino, sha256 });
    }
  }
  return out;
}

/**
 * Best effort: a read-only checkout simply plans without a warm cache next
 * time. Writes only inside the project: a `.vidbuild` (or cache file) that
 * is a symlink leading out, or not a directory, is left alone and the cache
 * is not saved.
 */
export async function saveHashCache(projectDir: string, entries: ReadonlyMap<string, HashCacheEntry>): Promise<void> {
  const files: Record<string, readonly [number, number, number, string]> = {};
  for (const [p, e] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) files[p] = [e.size, e.mtimeMs, e.ino, e.sha256];
  try {
    const file = path.join(projectDir, HASH_CACHE_PATH);
    if (!(await stateDirInside(projectDir))) return;
    const existing = await lstat(file).catch(() => undefined);
    // write-file-atomic follows a symlink and writes where it leads.
    if (existing !== undefined && !existing.isFile()) return;
    await writeFileAtomic(file, `${JSON.stringify({ version: VERSION, files })}\n`, { fsync: false });
  } catch {
    // Not being able to save a cache is not a reason to fail a plan.
  }
}

/** Whether `.vidbuild/` is a directory inside the project (made first when `create` and it is missing). */
async function stateDirInside(projectDir: string, create = true): Promise<boolean> {
  const dir = path.join(projectDir, path.dirname(HASH_CACHE_PATH));
  const st = await lstat(dir).catch(() => undefined);
  if (st === undefined) {
    if (!create) return false;
    await mkdir(dir);
    return true;
  }
  if (st.isDirectory()) return true;
  if (!st.isSymbolicLink()) return false;
  const [root, real] = await Promise.all([realpath(projectDir), realpath(dir)]);
  const rel = path.relative(root, real);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) && (await lstat(real)).isDirectory();
}
