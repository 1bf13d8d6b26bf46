import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import { makeDirs } from '../core/make-dirs.js';

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
  await makeDirs(dir);
  const [realRoot, realDir] = await Promise.all([fsp.realpath(projectDir), fsp.realpath(dir)]);
  if (!isInside(realRoot, realDir) && realDir !== realRoot) {
    return unsafe(`output path ${rel} leads outside the project (through a symlink)`);
  }
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

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
