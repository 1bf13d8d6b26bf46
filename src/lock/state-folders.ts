import path from 'node:path';
import type { Diagnostic } from '../core/diagnostic.js';
import { err, ok, type Result } from '../core/result.js';
import { resolveInsideProject } from './inside-project.js';

/**
 * What vidbuild keeps under `.vidbuild/`: each may be a symlink only if it
 * leads to a place inside the project. Checked once when a project is
 * opened, before anything reads or creates a folder there, so a
 * `.vidbuild/cache -> ~/elsewhere` is refused instead of written through.
 */
const STATE_PATHS: readonly (readonly [string, string])[] = [
  ['.vidbuild', 'a folder'],
  ['.vidbuild/cache', 'a folder'],
  ['.vidbuild/emulator', 'a folder'],
  ['.vidbuild/tmp', 'a folder'],
  ['.vidbuild/obsolete', 'a folder'],
  // hash-cache.json is not listed: the hash cache never follows a link (plan/hash-cache.ts).
];

export async function checkStateFolders(projectDir: string): Promise<Result<void, Diagnostic>> {
  for (const [rel, what] of STATE_PATHS) {
    // Under a `.vidbuild` that is a file there is nothing to follow (ENOTDIR): the run lock says so.
    const r = await resolveInsideProject(projectDir, path.join(projectDir, rel), rel, what).catch((e: unknown) =>
      e instanceof Error && 'code' in e && e.code === 'ENOTDIR' ? undefined : Promise.reject(e),
    );
    if (r === undefined) break;
    if (!r.ok) return err(r.error);
  }
  return ok(undefined);
}
