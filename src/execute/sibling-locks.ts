import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Lockfile } from '../lock/lockfile.js';
import { readLockfile } from '../lock/read-lockfile.js';

/**
 * The lock of another manifest in the same folder (`ads.yaml` → `ads.lock`
 * beside `videos.yaml` → `videos.lock`). Both manifests write outputs under
 * the same project and share its cache, so one may restore a job the other
 * made (same inputs, same cached bytes): the other's lock then records the
 * same job id and, with the same `outDir` (the default is `videos` for every
 * manifest), the same output paths. What one manifest's prune deletes or one
 * manifest's apply overwrites must be checked against these.
 */
export interface SiblingLock {
  /** The lock's file name (`ads.lock`). */
  readonly lockName: string;
  /** The manifest it belongs to (`ads.yaml`). */
  readonly manifestName: string;
  readonly lock: Lockfile;
}

/**
 * Every other manifest's lock in `projectDir`: a `<stem>.lock` with a
 * `<stem>.yaml` or `<stem>.yml` beside it that reads as a vidbuild lock. A
 * lock whose manifest is gone (renamed away) protects nothing; a `.lock` of
 * another tool, or one vidbuild cannot read, is not ours to reason about.
 */
export async function readSiblingLocks(projectDir: string, ownLockPath: string): Promise<readonly SiblingLock[]> {
  let names: string[];
  try {
    names = await fsp.readdir(projectDir);
  } catch {
    return [];
  }
  const present = new Set(names);
  const own = path.basename(ownLockPath);
  const found: SiblingLock[] = [];
  for (const lockName of names.sort()) {
    if (!lockName.endsWith('.lock') || lockName === own) continue;
    const stem = lockName.slice(0, -'.lock'.length);
    const manifestName = [`${stem}.yaml`, `${stem}.yml`].find((m) => present.has(m));
    if (manifestName === undefined) continue;
    const read = await readLockfile(path.join(projectDir, lockName));
    if (read.ok) found.push({ lockName, manifestName, lock: read.value });
  }
  return found;
}

/** A project path some other manifest's lock records as one of its outputs. */
export interface ForeignOutput {
  readonly path: string;
  readonly lockName: string;
  readonly manifestName: string;
  readonly target: string;
}

/** Output paths recorded by sibling locks, by path. */
export function foreignOutputs(siblings: readonly SiblingLock[]): ReadonlyMap<string, ForeignOutput> {
  const byPath = new Map<string, ForeignOutput>();
  for (const s of siblings) {
    for (const [target, entry] of Object.entries(s.lock.videos)) {
      for (const a of Object.values(entry.assets)) {
        if (a !== undefined && !byPath.has(a.path)) byPath.set(a.path, { path: a.path, lockName: s.lockName, manifestName: s.manifestName, target });
      }
    }
  }
  return byPath;
}

/** Job ids sibling locks hold, as a target's own job or as its source; with the holder, for messages. */
export function foreignJobs(siblings: readonly SiblingLock[]): ReadonlyMap<string, string> {
  const byId = new Map<string, string>();
  for (const s of siblings) {
    for (const [target, entry] of Object.entries(s.lock.videos)) {
      const holder = `${target} in ${s.lockName}`;
      if (entry.job.state === 'job' && !byId.has(entry.job.jobId)) byId.set(entry.job.jobId, holder);
      const source = entry.job.request.sourceJobId;
      if (source !== undefined && !byId.has(source)) byId.set(source, holder);
    }
  }
  return byId;
}
