import path from 'node:path';
import { realpath, stat } from 'node:fs/promises';
import type { ProjectPath } from './manifest.js';

/**
 * Every path in a manifest is relative to the manifest's folder and must stay
 * inside it, written the same way on every OS. The syntactic check is pure;
 * the symlink check (`locateInProject`) touches the disk.
 */
export type PathCheck = { readonly ok: true; readonly path: ProjectPath } | { readonly ok: false; readonly reason: string };

export function checkProjectPath(raw: string): PathCheck {
  if (/[\u0000-\u001f]/.test(raw)) return { ok: false, reason: 'contains control characters' };
  if (/^[A-Za-z]:/.test(raw)) return { ok: false, reason: 'is a Windows drive path; use a path relative to the manifest' };
  if (raw.includes('\\')) return { ok: false, reason: "uses backslashes; write paths with '/'" };
  if (raw.startsWith('/')) return { ok: false, reason: 'is absolute; use a path relative to the manifest' };
  if (raw.startsWith('~')) return { ok: false, reason: "starts with '~', which is not expanded; use a path relative to the manifest" };
  const normalized = path.posix.normalize(raw).replace(/\/+$/, '');
  if (normalized === '..' || normalized.startsWith('../')) {
    return { ok: false, reason: 'escapes the project directory' };
  }
  const result = normalized === '' ? '.' : normalized;
  if (!isProjectPath(result)) return { ok: false, reason: 'escapes the project directory' };
  return { ok: true, path: result };
}

/** A normalized, relative, forward-slash path that does not climb out of its root. */
export function isProjectPath(p: string): p is ProjectPath {
  return (
    p !== '' &&
    !p.startsWith('/') &&
    !p.includes('\\') &&
    !/^[A-Za-z]:/.test(p) &&
    p !== '..' &&
    !p.startsWith('../') &&
    path.posix.normalize(p) === p
  );
}

export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The folder of git's or vidbuild's own that a real path inside the project
 * lies in, if any: outputs written there would corrupt it (or be lost).
 */
export function reservedTopOf(projectReal: string, real: string): '.git' | '.vidbuild' | undefined {
  const top = path.relative(projectReal, real).split(path.sep)[0]?.toLowerCase();
  return top === '.git' || top === '.vidbuild' ? top : undefined;
}

export type Located =
  /** `real`: the file's real path, inside the project (the one to read). */
  | { readonly kind: 'file'; readonly real: string }
  | { readonly kind: 'directory' }
  /** A FIFO, socket or device: never read (opening a FIFO would wait forever). */
  | { readonly kind: 'special' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'outside' };

/**
 * What `rel` is on disk, following symlinks: `outside` when the real path
 * leaves `projectReal` (the project folder's own real path).
 */
export async function locateInProject(projectDir: string, projectReal: string, rel: ProjectPath): Promise<Located> {
  let real: string;
  try {
    real = await realpath(path.join(projectDir, rel));
  } catch {
    return { kind: 'missing' };
  }
  if (!isInside(projectReal, real)) return { kind: 'outside' };
  const s = await stat(real);
  return s.isDirectory() ? { kind: 'directory' } : s.isFile() ? { kind: 'file', real } : { kind: 'special' };
}

/** What a folder vidbuild will write to (outDir) is on disk, made or not. */
export type FolderLocated =
  /** A folder, or a path to be made under one, inside the project. */
  | { readonly kind: 'folder' }
  /**
   * `at` — the path itself, or a folder on the way to it — exists and is not
   * a folder: `mkdir` would fail there after the run has paid for its jobs.
   */
  | { readonly kind: 'in-the-way'; readonly at: ProjectPath; readonly regularFile: boolean }
  | { readonly kind: 'outside' };

/**
 * For a folder that may not exist yet (outDir): whether its nearest existing
 * ancestor stays inside the project once symlinks are resolved, and is a
 * folder.
 */
export async function nearestExistingInside(projectDir: string, projectReal: string, rel: ProjectPath): Promise<FolderLocated> {
  let current = path.join(projectDir, rel);
  for (;;) {
    let real: string;
    try {
      real = await realpath(current);
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return { kind: 'folder' };
      current = parent;
      continue;
    }
    if (!isInside(projectReal, real)) return { kind: 'outside' };
    const s = await stat(real);
    if (s.isDirectory()) return { kind: 'folder' };
    const at = path.relative(projectDir, current).split(path.sep).join('/');
    return { kind: 'in-the-way', at: isProjectPath(at) ? at : rel, regularFile: s.isFile() };
  }
}
