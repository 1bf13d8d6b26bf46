import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { TargetName } from '../manifest/manifest.js';
import type { Lockfile, Sha256 } from '../lock/lockfile.js';
import { hashFile } from '../cache/local-cache.js';

/**
 * vidbuild replaces only files it wrote. Just before an output takes its
 * place (a download, a restore from the cache), a file already there must be
 * one the lock records at that path with those bytes, or the very bytes
 * about to be written (a re-run after a kill between the rename and the lock
 * write). A file at the very path the lock records for the target being
 * written, with other bytes, is that output changed since (a truncated copy,
 * a damaged download, an edit in place): it is moved aside
 * (`a.mp4` → `a.modified-20261206T190000Z.mp4`) and the write goes on, so a
 * `pull` in CI heals and no byte is lost. Anything else is the user's: a clip
 * dropped into the folder `outDir` now points at, a file a renamed or new
 * target's output collides with. It is refused, or with `--force` moved
 * aside first (`a.moved-…`).
 *
 * One guard serves every write of an output, so no path can bypass it.
 */
export type OverwriteCheck = { readonly ok: true } | { readonly ok: false; readonly message: string };

/**
 * The output the lock records for the target being written, at this very
 * path: a file there with other bytes is vidbuild's output, changed since.
 */
export interface RecordedOutput {
  readonly name: TargetName;
  readonly sha256: Sha256;
}

export type OverwriteGuard = (absDest: string, incoming: Sha256, recordedHere?: RecordedOutput) => Promise<OverwriteCheck>;

export interface OverwriteGuardOptions {
  readonly projectDir: string;
  /** Whether the lock records an output at this project path with these bytes. */
  readonly recorded: (rel: string, sha256: Sha256) => boolean;
  /** Whether the lock records any output at this project path (then a refusal says the file changed, not that it is unknown). */
  readonly recordedPath?: (rel: string) => boolean;
  /** `--force`: move a foreign file aside (`a.mp4` → `a.moved-20261206T190000Z.mp4`) instead of refusing. */
  readonly force: boolean;
  readonly onMovedAside?: (rel: string, asideRel: string) => void;
  /** A target's own output, changed since vidbuild wrote it, was moved aside (`a.modified-…`) before the write. */
  readonly onKeptChanged?: (name: TargetName, rel: string, asideRel: string) => void;
  /** How the refusal says to force it (default: `vidbuild apply --force`); empty for none. */
  readonly forceHint?: string;
}

export function overwriteGuard(o: OverwriteGuardOptions): OverwriteGuard {
  return async (absDest, incoming, recordedHere) => {
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
    if (recordedHere !== undefined) {
      o.onKeptChanged?.(recordedHere.name, rel, await moveAside(o.projectDir, absDest, 'modified'));
      return { ok: true };
    }
    if (o.force) {
      o.onMovedAside?.(rel, await moveAside(o.projectDir, absDest, 'moved'));
      return { ok: true };
    }
    const why =
      o.recordedPath?.(rel) === true
        ? 'and was changed since vidbuild wrote it (the lock records other bytes there)'
        : 'and is not a file vidbuild wrote (the lock records no such output)';
    return {
      ok: false,
      message: `${rel} is already there ${why}; nothing was written: move it away${o.forceHint ?? ', or run `vidbuild apply --force` to move it aside'}`,
    };
  };
}

/** Renames `abs` to a free aside name; returns that name relative to the project. */
async function moveAside(projectDir: string, abs: string, label: 'moved' | 'modified'): Promise<string> {
  const aside = await freeAsidePath(abs, label, new Date());
  await fsp.rename(abs, aside);
  return path.relative(projectDir, aside).split(path.sep).join('/');
}

/** `out/a.mp4` → `out/a.moved-20261206T190000Z.mp4` (or `a.modified-…`), with `-2`, `-3`… if that is taken too. */
async function freeAsidePath(abs: string, label: 'moved' | 'modified', now: Date): Promise<string> {
  const ext = path.extname(abs);
  const base = abs.slice(0, abs.length - ext.length);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  for (let n = 1; ; n++) {
    const candidate = `${base}.${label}-${stamp}${n === 1 ? '' : `-${n}`}${ext}`;
    const taken = await fsp.lstat(candidate).then(
      () => true,
      () => false,
    );
    if (!taken) return candidate;
  }
}

/** The guard when nothing is on disk to protect (tests, or writes vidbuild owns outright). */
export const ALLOW_OVERWRITE: OverwriteGuard = async () => ({ ok: true });

/** Whether some entry of `lock` records an output at `rel`, whatever its bytes. */
export function lockRecordsPath(lock: Lockfile, rel: string): boolean {
  for (const t of Object.values(lock.videos)) {
    for (const a of Object.values(t.assets)) if (a !== undefined && a.path === rel) return true;
  }
  return false;
}

/** Whether some entry of `lock` records an output at `rel` with these bytes. */
export function lockRecordsOutput(lock: Lockfile, rel: string, sha256: Sha256): boolean {
  for (const t of Object.values(lock.videos)) {
    for (const a of Object.values(t.assets)) if (a !== undefined && a.path === rel && a.sha256 === sha256) return true;
  }
  return false;
}
