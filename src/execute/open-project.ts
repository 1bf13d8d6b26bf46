import path from 'node:path';
import type { Diagnostic } from '../core/diagnostic.js';
import { err, ok, type Result } from '../core/result.js';
import type { Manifest } from '../manifest/manifest.js';
import { loadManifest } from '../manifest/load-manifest.js';
import type { Lockfile } from '../lock/lockfile.js';
import { readLockfile } from '../lock/read-lockfile.js';
import { lockfilePathForManifest } from '../lock/lockfile-path.js';
import { acquireRunLock, type RunLock } from '../lock/run-lock.js';
import { checkStateFolders } from '../lock/state-folders.js';
import { sweepStaleTempFiles } from '../lock/sweep-stale-temp.js';
import type { DiskFacts, Plan } from '../plan/plan.js';
import { planProject as planManifest, type PlanProjectOptions } from '../plan/plan-project.js';
import type { TargetName } from '../manifest/manifest.js';

/**
 * The common opening of every command that acts on a project: load the
 * manifest, take the run lock (before reading the lockfile, so nobody writes
 * it underneath us), read the lockfile. Returns diagnostics; never prints.
 */
export interface OpenProject {
  readonly manifest: Manifest;
  readonly lockPath: string;
  readonly lock: Lockfile;
  readonly runLock: RunLock | undefined;
  /** Manifest warnings and a run-lock takeover warning. */
  readonly warnings: readonly Diagnostic[];
}

export interface OpenProjectOptions {
  readonly file: string;
  readonly cwd: string;
  /** Command name recorded in the run lock; undefined = read-only, no run lock. */
  readonly lockFor: string | undefined;
}

export async function openProject(o: OpenProjectOptions): Promise<Result<OpenProject, readonly Diagnostic[]>> {
  const loaded = await loadManifest(path.resolve(o.cwd, o.file), { cwd: o.cwd });
  if (!loaded.ok) return err(loaded.error);
  const manifest = loaded.value.manifest;
  const warnings: Diagnostic[] = [...loaded.value.warnings];
  const state = await checkStateFolders(manifest.projectDir);
  if (!state.ok) return err([state.error]);
  let runLock: RunLock | undefined;
  if (o.lockFor !== undefined) {
    const acquired = await acquireRunLock(manifest.projectDir, o.lockFor);
    if (!acquired.ok) return err([acquired.error]);
    runLock = acquired.value;
    if (runLock.warning !== undefined) warnings.push(runLock.warning);
  }
  const lockPath = lockfilePathForManifest(manifest.file);
  const lock = await readLockfile(lockPath);
  if (!lock.ok) {
    await runLock?.release();
    return err([lock.error]);
  }
  // Holding the run lock, nobody else is mid-write: temp files left by a
  // killed run (kill -9, full disk) can go.
  if (runLock !== undefined) await sweepStaleTempFiles(manifest.projectDir, writtenDirs(manifest, lock.value), path.basename(lockPath));
  return ok({ manifest, lockPath, lock: lock.value, runLock, warnings });
}

/** Folders vidbuild writes outputs to: the manifest's and the ones the lock remembers. */
function writtenDirs(manifest: Manifest, lock: Lockfile): Set<string> {
  const dirs = new Set<string>([manifest.outDir]);
  for (const t of manifest.targets.values()) for (const p of Object.values(t.outputs)) if (p !== undefined) dirs.add(path.posix.dirname(p));
  for (const e of Object.values(lock.videos)) for (const a of Object.values(e.assets)) if (a !== undefined) dirs.add(path.posix.dirname(a.path));
  return dirs;
}

export interface Planned {
  readonly facts: DiskFacts;
  readonly plan: Plan;
  /** The remote cache stopped answering while planning (plan/plan-project.ts). */
  readonly remoteProblem?: string;
}

export async function planProject(
  p: OpenProject,
  options: PlanProjectOptions,
): Promise<Planned> {
  return planManifest(p.manifest, p.lock, options);
}

/** Target names given on the command line, checked against the manifest. */
export function resolveTargetNames(
  manifest: Manifest,
  names: readonly string[],
): Result<readonly TargetName[], readonly string[]> {
  const byName = new Map<string, TargetName>();
  for (const k of manifest.targets.keys()) byName.set(k, k);
  const found: TargetName[] = [];
  const unknown: string[] = [];
  for (const n of names) {
    const t = byName.get(n);
    if (t === undefined) unknown.push(n);
    else found.push(t);
  }
  return unknown.length > 0 ? err(unknown) : ok(found);
}
