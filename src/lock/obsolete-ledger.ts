import { readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { LinkFreeTree } from '../core/link-free-tree.js';
import type { TargetName } from '../manifest/manifest.js';
import { isJobId } from './lock-names.js';
import { isTerminalStatus, LOCKFILE_VERSION, type Fingerprint, type JobId, type JobState, type LockedTarget } from './lockfile.js';
import { readLockfile } from './read-lockfile.js';
import { writeLockfile } from './write-lockfile.js';

/**
 * Paid jobs the lockfile has let go of before they reached the cache: a job
 * made obsolete by an edit while it ran, then a run stopped before the job
 * finished. Each is kept, until it is in the cache or has ended without a
 * video, in `.vidbuild/obsolete/<job id>.lock`: a one-entry lockfile, so it
 * is read with the lockfile's own checks. The lock forgets the job the
 * moment the replacing run writes its intent; this record is written first.
 *
 * What reads it: the next run finishes these jobs into the cache, and the
 * planner takes one whose inputs a target has again (an edit reverted) as
 * that target's job — resumed or downloaded, never paid for again.
 */
export interface ObsoleteRecord {
  readonly name: TargetName;
  readonly locked: LockedTarget & { readonly job: JobState };
}

export const OBSOLETE_DIR = path.join('.vidbuild', 'obsolete');

function recordPath(projectDir: string, jobId: JobId): string {
  return path.join(projectDir, OBSOLETE_DIR, `${jobId}.lock`);
}

/** The ledger's folder, where nothing may be a symlink (the lockfile writer writes where one leads). */
function ledgerTree(projectDir: string): LinkFreeTree {
  return new LinkFreeTree(path.join(projectDir, OBSOLETE_DIR), projectDir);
}

/** Records a job before the lockfile lets go of it (written atomically, fsynced). */
export async function recordObsolete(projectDir: string, record: ObsoleteRecord): Promise<void> {
  const tree = ledgerTree(projectDir);
  const file = recordPath(projectDir, record.locked.job.jobId);
  await tree.folder(tree.root, true);
  await tree.fileStat(file);
  await writeLockfile(file, {
    lockfileVersion: LOCKFILE_VERSION,
    videos: { [record.name]: record.locked },
    characters: {},
  });
}

/** The job reached the cache, or ended without a video: nothing more to keep. */
export async function forgetObsolete(projectDir: string, jobId: JobId): Promise<void> {
  const file = recordPath(projectDir, jobId);
  if ((await ledgerTree(projectDir).fileStat(file)) === undefined) return;
  await unlink(file).catch(() => undefined);
}

/** Every record that reads back whole (a damaged one is skipped: it can only cost what it would have saved). */
export async function listObsolete(projectDir: string): Promise<ObsoleteRecord[]> {
  const tree = ledgerTree(projectDir);
  const dir = tree.root;
  if (!(await tree.folder(dir, false))) return [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  // A linked record would be read from wherever it leads: refused, not skipped (it may be a paid job).
  await tree.refuseLinksIn(dir, entries);
  const records: ObsoleteRecord[] = [];
  for (const file of entries.map((d) => d.name).sort()) {
    const id = file.endsWith('.lock') ? file.slice(0, -'.lock'.length) : '';
    if (!isJobId(id)) continue;
    const read = await readLockfile(path.join(dir, file));
    if (!read.ok) continue;
    for (const [name, locked] of Object.entries(read.value.videos)) {
      if (locked.job.state === 'job' && locked.job.jobId === id) records.push({ name: name as TargetName, locked: { ...locked, job: locked.job } });
    }
  }
  return records;
}

/**
 * The records as the planner asks them: by fingerprint, leaving out jobs the
 * lockfile holds again (adopted, resumed) and jobs known to have ended
 * without a video.
 */
export function obsoleteByFingerprint(records: readonly ObsoleteRecord[], heldJobIds: ReadonlySet<string>): Map<Fingerprint, LockedTarget> {
  const out = new Map<Fingerprint, LockedTarget>();
  for (const r of records) {
    const job = r.locked.job;
    if (heldJobIds.has(job.jobId) || (isTerminalStatus(job.status) && job.status !== 'completed')) continue;
    if (!out.has(r.locked.fingerprint)) out.set(r.locked.fingerprint, r.locked);
  }
  return out;
}
