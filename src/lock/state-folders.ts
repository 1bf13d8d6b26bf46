import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Diagnostic } from '../core/diagnostic.js';
import { err, ok, type Result } from '../core/result.js';
import { LinkFreeTree, LinkInTreeError } from '../core/link-free-tree.js';
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

/**
 * Below those, nothing may be a symlink at all (core/link-free-tree.ts): the
 * cache, the ledger and the emulator check each folder as they use it. The
 * folders that fan out are looked over here as well, one listing each, so a
 * run refuses a link (`objects/f7 -> ~/elsewhere`) before it pays for a
 * video it could not cache, rather than warning once the video is made.
 */
const FANNED_OUT: readonly (readonly [string, readonly string[]])[] = [
  ['.vidbuild/cache', ['', 'objects']],
  ['.vidbuild/emulator', ['', 'renders']],
  ['.vidbuild/obsolete', ['']],
];

export async function checkStateFolders(projectDir: string): Promise<Result<void, Diagnostic>> {
  for (const [rel, what] of STATE_PATHS) {
    // Under a `.vidbuild` that is a file there is nothing to follow (ENOTDIR): the run lock says so.
    const r = await resolveInsideProject(projectDir, path.join(projectDir, rel), rel, what).catch((e: unknown) =>
      e instanceof Error && 'code' in e && e.code === 'ENOTDIR' ? undefined : Promise.reject(e),
    );
    if (r === undefined) return ok(undefined);
    if (!r.ok) return err(r.error);
  }
  try {
    for (const [rel, below] of FANNED_OUT) {
      const tree = new LinkFreeTree(path.join(projectDir, rel), projectDir);
      for (const sub of below) {
        const dir = path.join(tree.root, sub);
        if (!(await tree.folder(dir, false))) continue;
        await tree.refuseLinksIn(dir, await readdir(dir, { withFileTypes: true }));
      }
    }
  } catch (e: unknown) {
    if (e instanceof LinkInTreeError && e.diagnostics[0] !== undefined) return err(e.diagnostics[0]);
    throw e;
  }
  return ok(undefined);
}
