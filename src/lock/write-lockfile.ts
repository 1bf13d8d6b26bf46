import writeFileAtomic from 'write-file-atomic';
import type { Lockfile } from './lockfile.js';

/**
 * The lockfile as committed to git: keys sorted at every level, 2-space
 * indentation, trailing newline. The same lock always gives the same bytes,
 * so diffs show only what changed.
 */
export function serializeLockfile(lock: Lockfile): string {
  return `${JSON.stringify(lock, sortKeys, 2)}\n`;
}

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) sorted[k] = Reflect.get(value, k);
  return sorted;
}

/**
 * Writes the lock atomically (temp file, fsync, rename): a crash leaves the
 * old lock or the new one, never half of one. The caller holds the run lock.
 */
export async function writeLockfile(lockPath: string, lock: Lockfile): Promise<void> {
  await writeFileAtomic(lockPath, serializeLockfile(lock), { fsync: true, encoding: 'utf8' });
}
