import path from 'node:path';

export const LOCKFILE_NAME = 'videos.lock';

/**
 * Where the lockfile is, given the manifest's folder (its `videos.lock`), the
 * manifest file, or the lock path itself. The lock sits next to the manifest
 * and is named after it: `videos.yaml` → `videos.lock`, `ads.yml` →
 * `ads.lock`, so two manifests in one folder never share (and overwrite, or
 * prune) each other's jobs.
 */
export function lockfilePathFor(where: string): string {
  const abs = path.resolve(where);
  if (abs.endsWith('.lock')) return abs;
  if (/\.ya?ml$/i.test(abs)) return lockfilePathForManifest(abs);
  return path.join(abs, LOCKFILE_NAME);
}

/** The lock of a manifest file, whatever its name: `<stem>.lock` beside it. */
export function lockfilePathForManifest(manifestFile: string): string {
  const abs = path.resolve(manifestFile);
  return path.join(path.dirname(abs), lockfileNameForManifest(abs));
}

/** Just the lock's file name for a manifest (`ads.yaml` → `ads.lock`), for messages; no I/O. */
export function lockfileNameForManifest(manifestFile: string): string {
  const stem = path.basename(manifestFile).replace(/\.ya?ml$/i, '');
  return `${stem === '' ? 'videos' : stem}.lock`;
}

/** The lock path as the user should see it in messages: relative to cwd when inside it. */
export function displayPath(abs: string, cwd: string = process.cwd()): string {
  const rel = path.relative(cwd, abs);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
}
