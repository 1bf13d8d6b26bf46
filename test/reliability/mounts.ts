import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';

/**
 * Real file-system trouble for the tests that need it: a small tmpfs that
 * fills up (ENOSPC), one remounted read-only (EROFS). Mounting needs root on
 * Linux; `canMount()` says whether it works here, and tests skip otherwise.
 */
export function canMount(): boolean {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0 || process.platform !== 'linux') return false;
  const probe = mkdtempSync(path.join(os.tmpdir(), 'vidbuild-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** Mounts a tmpfs of `bytes` on `dir` (made if missing); unmounted when the test finishes. */
export function mountTmpfs(dir: string, bytes: number): void {
  execFileSync('mkdir', ['-p', dir]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  // vitest runs these last-registered first: inner mounts come off before outer ones,
  // and all of them before the temp folder they are in is removed.
  onTestFinished(() => {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  });
}

export function remountReadOnly(dir: string): void {
  execFileSync('mount', ['-o', 'remount,ro', dir]);
}

/** Fills the file system `dir` is on, to the last byte. */
export function fill(dir: string): void {
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${path.join(dir, 'filler')}`, 'bs=4096'], { stdio: 'ignore' });
  } catch {
    // dd ends with "No space left on device": that is the point.
  }
}
