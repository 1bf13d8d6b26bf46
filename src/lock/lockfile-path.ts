import path from 'node:path';

export const LOCKFILE_NAME = 'videos.lock';

/**
 * Where the lockfile is, given the manifest's folder, the manifest file, or
 * the lock path itself. The lock always sits next to the manifest.
 */
export function lockfilePathFor(where: string): string {
  const abs = path.resolve(where);
  if (abs.endsWith('.lock')) return abs;
  if (/\.ya?ml$/i.test(abs)) return path.join(path.dirname(abs), LOCKFILE_NAME);
  return path.join(abs, LOCKFILE_NAME);
}

/** The lock path as the user should see it in messages: relative to cwd when inside it. */
export function displayPath(abs: string, cwd: string = process.cwd()): string {
  const rel = path.relative(cwd, abs);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
}
