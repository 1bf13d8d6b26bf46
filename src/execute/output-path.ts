import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { err, ok, type Result } from '../core/result.js';

/**
 * The absolute path of an output, refusing anything that would land outside
 * the project: `..` segments, absolute paths, and directories that are
 * symlinks leading elsewhere (checked on the real path after creating the
 * parent directory, just before writing).
 */
export async function outputPathInside(projectDir: string, rel: string): Promise<Result<string, string>> {
  if (path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) {
    return err(`output path ${rel} is outside the project`);
  }
  const abs = path.resolve(projectDir, rel);
  if (!isInside(path.resolve(projectDir), abs)) return err(`output path ${rel} is outside the project`);
  const dir = path.dirname(abs);
  await fsp.mkdir(dir, { recursive: true });
  const [realRoot, realDir] = await Promise.all([fsp.realpath(projectDir), fsp.realpath(dir)]);
  if (!isInside(realRoot, realDir) && realDir !== realRoot) {
    return err(`output path ${rel} leads outside the project (through a symlink)`);
  }
  try {
    const st = await fsp.lstat(abs);
    if (st.isSymbolicLink()) return err(`output path ${rel} is a symlink; refusing to write through it`);
  } catch {
    // Not there yet: the usual case.
  }
  return ok(abs);
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
