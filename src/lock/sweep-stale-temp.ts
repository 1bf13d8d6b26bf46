import { readdir, realpath, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Every write vidbuild makes goes through a temp file and a rename, so a
 * process killed mid-write (kill -9, power loss, a full disk) leaves the old
 * file intact but the temp file behind. Only the holder of the run lock may
 * call this: it removes vidbuild's own temp files, recognised by their exact
 * name patterns, from the folders vidbuild writes to, and never follows a
 * folder that resolves outside the project.
 */

/** Temp names, per writer. Each is specific enough never to match a user's file. */
const PATTERNS: readonly RegExp[] = [
  // write-file-atomic (cache index): `<file>.<murmurhash>`; the lockfile's is per name, below
  /^[0-9a-f]{64}\.json\.\d+$/,
  // write-file-atomic: the remembered characters (`<sha256>-<name>.json`) and `.vidbuild/hash-cache.json`
  /^[0-9a-f]{64}-.+\.json\.\d+$/,
  /^hash-cache\.json\.\d+$/,
  // lock/run-lock: a stale run lock renamed aside before it is deleted (`run.lock.stale.<pid>.<8 hex>`)
  /^run\.lock\.stale\.\d+\.[0-9a-f]{8}$/,
  // execute/download-asset: `.<basename>.<8 hex>.tmp`
  /^\..+\.[0-9a-f]{8}\.tmp$/,
  // cache/local-cache and lock/run-lock: `<basename>.<pid>.<8 hex>.tmp`
  /^.+\.\d+\.[0-9a-f]{8}\.tmp$/,
];

/** `lockName`: this manifest's lockfile (`videos.lock`, `ads.lock`), whose write-file-atomic temps are `<lock>.<digits>`. */
export function isStaleTempName(name: string, lockName = 'videos.lock'): boolean {
  if (name.startsWith(`${lockName}.`) && /^\d+$/.test(name.slice(lockName.length + 1))) return true;
  return PATTERNS.some((p) => p.test(name));
}

/**
 * The name of the file a temp file of vidbuild's stands for
 * (`run.lock.123.0a1b2c3d.tmp` → `run.lock`, `.a.mp4.0a1b2c3d.tmp` → `a.mp4`,
 * `videos.lock.3065357247` → `videos.lock`), or undefined for another name:
 * an error while writing a temp file is about the file it becomes.
 */
export function fileOfTempName(name: string): string | undefined {
  return (
    /^(.+\.(?:lock|json))\.\d+$/.exec(name)?.[1] ??
    /^\.(.+)\.[0-9a-f]{8}\.tmp$/.exec(name)?.[1] ??
    /^(.+)\.\d+\.[0-9a-f]{8}\.tmp$/.exec(name)?.[1]
  );
}

/**
 * Removes stale temp files from `projectDir`, `.vidbuild`, the cache folders
 * and the given project-relative folders. Returns the project-relative paths
 * removed. Missing folders are skipped; errors on single files are ignored
 * (a leftover is harmless, failing the run over it is not).
 */
export async function sweepStaleTempFiles(projectDir: string, relDirs: Iterable<string>, lockName = 'videos.lock'): Promise<readonly string[]> {
  const projectReal = await realpath(projectDir).catch(() => path.resolve(projectDir));
  const dirs = new Set<string>(['.', '.vidbuild', '.vidbuild/cache/index', '.vidbuild/cache/characters']);
  for (const d of relDirs) dirs.add(path.posix.normalize(d));
  const objects = path.join(projectDir, '.vidbuild', 'cache', 'objects');
  for (const shard of await readdir(objects).catch(() => [])) {
    if (/^[0-9a-f]{2}$/.test(shard)) dirs.add(`.vidbuild/cache/objects/${shard}`);
  }
  const removed: string[] = [];
  for (const rel of dirs) {
    const abs = path.join(projectDir, rel);
    const real = await realpath(abs).catch(() => undefined);
    if (real === undefined) continue;
    const inside = path.relative(projectReal, real);
    if (inside.startsWith('..') || path.isAbsolute(inside)) continue;
    for (const name of await readdir(real).catch(() => [])) {
      if (!isStaleTempName(name, lockName)) continue;
      const removedOk = await unlink(path.join(real, name)).then(
        () => true,
        () => false,
      );
      if (removedOk) removed.push(path.posix.join(rel, name));
    }
  }
  return removed;
}
