import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import { makeDirs } from '../core/make-dirs.js';
import { isInside, reservedTopOf } from '../manifest/path-safety.js';

/**
 * The absolute path of an output, refusing anything that would land outside
 * the project: `..` segments, absolute paths, and directories that are
 * symlinks leading elsewhere (checked on the real path after creating the
 * parent directory, just before writing).
 */
export interface OutputPathError {
  /** `unsafe-output-path`: it would land outside the project; `output-in-the-way`: something that is not a file is there. */
  readonly code: 'unsafe-output-path' | 'output-in-the-way';
  readonly message: string;
}

export async function outputPathInside(projectDir: string, rel: string): Promise<Result<string, OutputPathError>> {
  const unsafe = (message: string): Result<string, OutputPathError> => err({ code: 'unsafe-output-path', message });
  const inTheWay = (message: string): Result<string, OutputPathError> => err({ code: 'output-in-the-way', message });
  if (path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) {
    return unsafe(`output path ${rel} is outside the project`);
  }
  const abs = path.resolve(projectDir, rel);
  if (!isInside(path.resolve(projectDir), abs)) return unsafe(`output path ${rel} is outside the project`);
  const dir = path.dirname(abs);
  const realRoot = await fsp.realpath(projectDir);
  // Before creating anything: the nearest folder that exists must really be
  // inside the project, or `mkdir -p` would make folders wherever a link leads.
  const before = await nearestExisting(dir);
  const refusal = whereRefused(realRoot, await fsp.realpath(before), rel);
  if (refusal !== undefined) return unsafe(refusal);
  await makeDirs(dir);
  // And after: a link swapped in meanwhile is caught here, before any byte is written.
  const after = whereRefused(realRoot, await fsp.realpath(dir), rel);
  if (after !== undefined) return unsafe(after);
  let st;
  try {
    st = await fsp.lstat(abs);
  } catch {
    return ok(abs); // Not there yet: the usual case.
  }
  if (st.isSymbolicLink()) return unsafe(`output path ${rel} is a symlink; refusing to write through it`);
  // A file is replaced by rename; anything else would fail at the rename
  // with an error naming a temp file, after the download.
  if (st.isDirectory()) return inTheWay(`output path ${rel} is a directory; move it out of the way (vidbuild only replaces files there)`);
  if (!st.isFile()) return inTheWay(`output path ${rel} is not a regular file; move it out of the way (vidbuild only replaces files there)`);
  return ok(abs);
}

/** Why a folder (a real path) may not receive outputs: outside the project, or in git's or vidbuild's own folder. */
function whereRefused(realRoot: string, realDir: string, rel: string): string | undefined {
  if (!isInside(realRoot, realDir)) return `output path ${rel} leads outside the project (through a symlink)`;
  const top = reservedTopOf(realRoot, realDir);
  if (top === '.git') return `output path ${rel} leads into .git (through a symlink); vidbuild never writes into git's folder`;
  if (top === '.vidbuild') return `output path ${rel} leads into .vidbuild (through a symlink); that is vidbuild's own state folder`;
  return undefined;
}

async function nearestExisting(dir: string): Promise<string> {
  for (let current = dir; ; current = path.dirname(current)) {
    const st = await fsp.stat(current).catch(() => undefined);
    if (st !== undefined || path.dirname(current) === current) return current;
  }
}
