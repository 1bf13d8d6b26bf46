import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Lockfile, Sha256 } from '../lock/lockfile.js';
import { hashFile } from '../cache/local-cache.js';

/**
 * vidbuild replaces only files it wrote. Just before an output takes its
 * place (a download, a restore from the cache), a file already there must be
 * one the lock records at that path with those bytes, or the very bytes
 * about to be written (a re-run after a kill between the rename and the lock
 * write). Anything else is the user's: a clip dropped into the folder
 * `outDir` now points at, a file a renamed or new target's output collides
 * with. It is refused, or with `--force` moved aside first.
 *
 * One guard serves every write of an output, so no path can bypass it.
 */
export type OverwriteCheck = { readonly ok: true } | { readonly ok: false; readonly message: string };

export type OverwriteGuard = (absDest: string, incoming: Sha256) => Promise<OverwriteCheck>;

export interface OverwriteGuardOptions {
  readonly projectDir: string;
  /** Whether the lock records an output at this project path with these bytes. */
  readonly recorded: (rel: string, sha256: Sha256) => boolean;
  /** `--force`: move a foreign file aside (`a.mp4` → `a.moved-20261206T190000Z.mp4`) instead of refusing. */
  readonly force: boolean;
  readonly onMovedAside?: (rel: string, asideRel: string) => void;
  /** How the refusal says to force it (default: `vidbuild apply --force`); empty for none. */
  readonly forceHint?: string;
}

export function overwriteGuard(o: OverwriteGuardOptions): OverwriteGuard {
  return async (absDest, incoming) => {
    let st;
    try {
      st = await fsp.lstat(absDest);
    } catch {
      return { ok: true };
    }
    // A directory, a link or a device is refused by the output path check.
    if (!st.isFile()) return { ok: true };
    const rel = path.relative(o.projectDir, absDest).split(path.sep).join('/');
    let existing: Sha256;
    try {
      existing = (await hashFile(absDest)).sha256;
    } catch {
      return { ok: false, message: `${rel} is already there and cannot be read to tell whether vidbuild wrote it; nothing was written: move it away` };
    }
    if (existing === incoming || o.recorded(rel, existing)) return { ok: true };
    if (o.force) {
      const aside = await freeAsidePath(absDest, new Date());
      await fsp.rename(absDest, aside);
      const asideRel = path.relative(o.projectDir, aside).split(path.sep).join('/');
      o.onMovedAside?.(rel, asideRel);
      return { ok: true };
    }
    return {
      ok: false,
      message: `${rel} is already there and is not a file vidbuild wrote (the lock records no such output); nothing was written: move it away${o.forceHint ?? ', or run `vidbuild apply --force` to move it aside'}`,
    };
  };
}

/** `out/a.mp4` → `out/a.moved-20261206T190000Z.mp4`, with `-2`, `-3`… if that is taken too. */
async function freeAsidePath(abs: string, now: Date): Promise<string> {
  const ext = path.extname(abs);
  const base = abs.slice(0, abs.length - ext.length);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  for (let n = 1; ; n++) {
    const candidate = `${base}.moved-${stamp}${n === 1 ? '' : `-${n}`}${ext}`;
    const taken = await fsp.lstat(candidate).then(
      () => true,
      () => false,
    );
    if (!taken) return candidate;
  }
}

/** The guard when nothing is on disk to protect (tests, or writes vidbuild owns outright). */
export const ALLOW_OVERWRITE: OverwriteGuard = async () => ({ ok: true });

/** Whether some entry of `lock` records an output at `rel` with these bytes. */
export function lockRecordsOutput(lock: Lockfile, rel: string, sha256: Sha256): boolean {
  for (const t of Object.values(lock.videos)) {
    for (const a of Object.values(t.assets)) if (a !== undefined && a.path === rel && a.sha256 === sha256) return true;
  }
  return false;
}
