import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * `mkdir -p` whose failure says why. Node 20's recursive mkdir reports
 * ENOENT ("no such file or directory") when a folder cannot be made on a
 * read-only file system: the EROFS of the call that failed is lost, and a
 * read-only project read as a bug. On ENOENT the missing folders are made
 * one at a time from the nearest one that exists, so the call that fails
 * throws its own error (EROFS, EACCES, ENOSPC…).
 */
export async function makeDirs(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    return;
  } catch (e: unknown) {
    if (errnoOf(e) !== 'ENOENT') throw e;
  }
  const missing: string[] = [];
  for (let cur = path.resolve(dir); ; ) {
    const found = await stat(cur).then(
      () => true,
      (e: unknown) => (errnoOf(e) === 'ENOENT' ? false : Promise.reject(e)),
    );
    if (found) break;
    missing.unshift(cur);
    const parent = path.dirname(cur);
    if (parent === cur) break;
    cur = parent;
  }
  for (const m of missing) {
    await mkdir(m).catch((e: unknown) => (errnoOf(e) === 'EEXIST' ? undefined : Promise.reject(e)));
  }
}

function errnoOf(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const code: unknown = Reflect.get(e, 'code');
  return typeof code === 'string' ? code : undefined;
}
