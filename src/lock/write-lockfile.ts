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
 *
 * The bytes are exactly `JSON.stringify(lock, sortKeys, 2)`, but built from
 * the text of each video and character entry, kept per entry object: a run
 * rewrites the lock after every job event, and an entry that did not change
 * is the same (immutable) object as last time, so a write costs the entries
 * that changed plus a join, not a sorted re-serialization of the whole lock
 * (9 ms at 1,000 targets, on every one of thousands of writes).
 */
export function serializeLockfile(lock: Lockfile): string {
  const rows: string[] = [];
  for (const [key, value] of sortedEntries(lock)) {
    const text = key === 'videos' || key === 'characters' ? entriesText(value) : textAt(value, 1);
    // As JSON.stringify: a property whose value has no JSON form is left out.
    if (text !== undefined) rows.push(`  ${JSON.stringify(key)}: ${text}`);
  }
  return rows.length === 0 ? '{}\n' : `{\n${rows.join(',\n')}\n}\n`;
}

/** Each entry's text at its depth in the lock (two levels in), by entry object. */
const entryTexts = new WeakMap<object, string | undefined>();

function entriesText(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return textAt(value, 1);
  const rows: string[] = [];
  for (const [name, entry] of sortedEntries(value)) {
    const text = entry !== null && typeof entry === 'object' ? cachedEntryText(entry) : textAt(entry, 2);
    if (text !== undefined) rows.push(`    ${JSON.stringify(name)}: ${text}`);
  }
  return rows.length === 0 ? '{}' : `{\n${rows.join(',\n')}\n  }`;
}

/** An object's properties in the order sortKeys leaves them (integer-like keys first, as JSON.stringify puts them). */
function sortedEntries(value: object): [string, unknown][] {
  const sorted = sortKeys('', value);
  return typeof sorted === 'object' && sorted !== null ? Object.entries(sorted) : [];
}

function cachedEntryText(entry: object): string | undefined {
  if (entryTexts.has(entry)) return entryTexts.get(entry);
  const text = textAt(entry, 2);
  entryTexts.set(entry, text);
  return text;
}

/** Sorted-keys JSON moved `depth` levels in (JSON strings hold no raw newlines, so every line break is structure). */
function textAt(value: unknown, depth: number): string | undefined {
  return JSON.stringify(value, sortKeys, 2)?.replaceAll('\n', `\n${'  '.repeat(depth)}`);
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
