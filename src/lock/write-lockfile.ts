import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { UserError } from '../core/diagnostic.js';
import { LocalFileError, localWriteErrorOf } from '../core/local-write-error.js';
import { resolveInsideProject } from './inside-project.js';
import type { Lockfile } from './lockfile.js';
import { displayPath } from './lockfile-path.js';

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
 * A lock that is a symlink is written where it leads only if that is inside
 * the project (readLockfile refuses the others before a run starts; this
 * checks again, since write-file-atomic would follow the link anywhere).
 * A full disk or an unwritable folder throws a `LocalFileError` naming the
 * lockfile (Node's error names the temp file, or no file at all).
 */
export async function writeLockfile(lockPath: string, lock: Lockfile): Promise<void> {
  const inside = await resolveInsideProject(path.dirname(lockPath), lockPath, displayPath(lockPath), 'the lockfile itself');
  if (!inside.ok) throw new UserError(inside.error);
  const target = inside.value.kind === 'present' ? inside.value.real : lockPath;
  try {
    await writeFileAtomic(target, serializeLockfile(lock), { fsync: true, encoding: 'utf8' });
  } catch (e: unknown) {
    throw localWriteErrorOf(e) === undefined ? e : new LocalFileError(lockPath, e);
  }
}
