import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import type OpenAI from 'openai';
import { APIError } from 'openai';
import { formatDiagnostic } from '../../core/diagnostic.js';
import { isTerminalStatus, type LockedAsset, type Lockfile, type LockedTarget } from '../../lock/lockfile.js';
import { writeLockfile } from '../../lock/write-lockfile.js';
import type { OrphanStep } from '../../plan/plan.js';
import { createBackend } from '../../backend/create-backend.js';
import { scrubSecret } from '../../backend/api-key.js';
import { openProject, planProject } from '../../execute/open-project.js';
import { askYesNo } from '../progress/confirm.js';
import { describeCallError } from '../../execute/classify-error.js';
import { findCreatedJob } from '../../execute/reconcile.js';
import { claimedJobIds } from '../../execute/claimed-jobs.js';
import { foreignJobs, foreignOutputs, readSiblingLocks } from '../../execute/sibling-locks.js';

/**
 * `vidbuild prune`: targets that are in videos.lock but no longer in the
 * manifest (plan action `orphan`) have their remote job deleted and their
 * local outputs removed, then leave the lock. Asks first in a terminal;
 * needs `--yes` otherwise. An output path that a current target also uses
 * is kept. Orphaned characters are dropped from the lock (the API has no
 * character delete).
 */
export async function run(opts: Record<string, unknown>, _args: readonly string[]): Promise<number> {
  const file = typeof opts['file'] === 'string' ? opts['file'] : 'videos.yaml';
  const yes = opts['yes'] === true;
  const out = process.stdout;
  const err = process.stderr;
  const opened = await openProject({ file, cwd: process.cwd(), lockFor: 'prune' });
  if (!opened.ok) {
    for (const d of opened.error) err.write(`${formatDiagnostic(d)}\n`);
    return 1;
  }
  const project = opened.value;
  const releaseOnExit = (): void => project.runLock?.releaseSync();
  process.once('exit', releaseOnExit);
  try {
    const { plan } = await planProject(project, {});
    const orphans = plan.steps.filter((s): s is OrphanStep => s.action === 'orphan');
    const orphanChars = plan.characters.filter((c) => c.action === 'orphan');
    if (orphans.length === 0 && orphanChars.length === 0) {
      out.write('Nothing to prune: every locked target is in the manifest.\n');
      return 0;
    }
    // Another manifest in this folder (ads.yaml beside videos.yaml) shares the
    // cache, so it may hold the very job an orphan here was restored from,
    // and with the same outDir the very file: both stay.
    const siblings = await readSiblingLocks(project.manifest.projectDir, project.lockPath);
    const keepPaths = new Set<string>(foreignOutputs(siblings).keys());
    for (const t of project.manifest.targets.values()) for (const p of Object.values(t.outputs)) keepPaths.add(p);
    // A job an orphan shares with a current target (a renamed target restored
    // from the cache, an import of the same id) is that target's too: deleting
    // it would lose its remote copy and break every remix/extend/edit of it.
    const foreign = foreignJobs(siblings);
    const keepJobs = new Set<string>([...jobsInUse(project.lock, new Set(orphans.map((o) => o.name))), ...foreign.keys()]);

    out.write(`These are in ${path.basename(project.lockPath)} but not in the manifest:\n`);
    for (const o of orphans) {
      const files = Object.values(o.locked.assets).map((a) => a.path).filter((p) => !keepPaths.has(p));
      const job =
        o.locked.job.state !== 'job'
          ? `no job id: an interrupted run's request of ${o.locked.job.intentAt}; a job it may have created is looked for, not deleted`
          : keepJobs.has(o.locked.job.jobId)
            ? `job ${o.locked.job.jobId} kept: ${foreign.get(o.locked.job.jobId) ?? 'a current target'} uses it`
            : `job ${o.locked.job.jobId}`;
      out.write(`  - ${o.name} (${job}${files.length > 0 ? `; deletes ${files.join(', ')}` : ''})\n`);
    }
    for (const c of orphanChars) out.write(`  - character ${c.name} (dropped from the lock)\n`);

    if (!yes) {
      if (process.stdin.isTTY !== true || out.isTTY !== true) {
        err.write('pass --yes to prune without a terminal\n');
        return 1;
      }
      const answer = await askYesNo('Delete them remotely and locally? [y/N] ', process.stdin, out);
      if (answer !== 'yes') {
        err.write('Nothing was deleted.\n');
        return answer === 'interrupted' ? 130 : 1;
      }
    }

    const needsApi = orphans.some((o) => o.locked.job.state === 'intent' || !keepJobs.has(o.locked.job.jobId));
    const backend = needsApi
      ? await createBackend({
          kind: opts['backend'] === 'emulator' ? 'emulator' : 'openai',
          baseURL: typeof opts['baseUrl'] === 'string' ? opts['baseUrl'] : undefined,
          provider: project.manifest.provider,
          projectDir: project.manifest.projectDir,
          env: process.env,
        })
      : undefined;
    if (backend !== undefined && !backend.ok) {
      err.write(`${formatDiagnostic(backend.error)}\n`);
      return 1;
    }
    let lock: Lockfile = project.lock;
    let failures = 0;
    try {
      const claimed = new Set<string>([...foreign.keys(), ...claimedJobIds(project.lock)]);
      for (const o of orphans) {
        const deleted = await deleteRemote(o.locked, keepJobs, claimed, backend?.value);
        if (!deleted.ok) {
          failures++;
          err.write(`${o.name}: could not delete job: ${scrubSecret(deleted.message, backend?.value.secret)}\n`);
          continue;
        }
        for (const a of Object.values(o.locked.assets)) {
          if (keepPaths.has(a.path) || a.path.split('/').includes('..')) continue;
          const abs = path.join(project.manifest.projectDir, a.path);
          const found = await lockedAssetAt(abs, a);
          if (found === 'other') {
            // A hand-edited or tampered lock can name any project file (the manifest, a source file):
            // only ever delete the exact bytes vidbuild wrote there.
            err.write(`${o.name}: kept ${a.path}: it is not the file vidbuild wrote (size or sha256 differ, or not a regular file)\n`);
          }
          if (found === 'locked') await fsp.rm(abs, { force: true });
        }
        const videos = { ...lock.videos };
        delete videos[o.name];
        lock = { ...lock, videos };
        await writeLockfile(project.lockPath, lock);
        out.write(`pruned ${o.name}${deleted.found === undefined ? '' : deleted.found === null ? ' (no job of the interrupted run was found)' : ` (kept job ${deleted.found}: the interrupted run may have created it, but ${path.basename(project.lockPath)} never recorded its id, so it may be another project's; \`vidbuild import\` adopts it)`}\n`);
      }
      if (orphanChars.length > 0) {
        const characters = { ...lock.characters };
        for (const c of orphanChars) delete characters[c.name];
        lock = { ...lock, characters };
        await writeLockfile(project.lockPath, lock);
      }
    } finally {
      await backend?.value.close();
    }
    return failures === 0 ? 0 : 1;
  } finally {
    await project.runLock?.release();
    process.removeListener('exit', releaseOnExit);
  }
}

/** Whether `abs` is a regular file with exactly the locked size and sha256. */
async function lockedAssetAt(abs: string, asset: LockedAsset): Promise<'locked' | 'other' | 'missing'> {
  let st;
  try {
    st = await fsp.lstat(abs);
  } catch {
    return 'missing';
  }
  if (!st.isFile() || st.size !== asset.bytes) return 'other';
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(abs)) hash.update(chunk);
  return hash.digest('hex') === asset.sha256 ? 'locked' : 'other';
}

/** Job ids that entries other than `leaving` hold, as their own job or as their source. */
function jobsInUse(lock: Lockfile, leaving: ReadonlySet<string>): ReadonlySet<string> {
  const ids = new Set<string>();
  for (const [name, t] of Object.entries(lock.videos)) {
    if (leaving.has(name)) continue;
    if (t.job.state === 'job') ids.add(t.job.jobId);
    if (t.job.request.sourceJobId !== undefined) ids.add(t.job.request.sourceJobId);
  }
  return ids;
}

/**
 * Deletes the orphan's job on the server, only ever one this lock recorded by
 * id. An intent (the run was killed between sending the paid request and
 * saving its id) may have created a job nobody tracks: it is looked for the
 * way apply reconciles and named (`found`: its id, or null when there was
 * none), but kept: an identical request from a clone of the project on the
 * same account, in the same window, looks exactly like it.
 */
async function deleteRemote(
  locked: LockedTarget,
  keepJobs: ReadonlySet<string>,
  claimed: Set<string>,
  backend: { readonly client: OpenAI; readonly baseURL: string } | undefined,
): Promise<{ ok: true; found?: string | null } | { ok: false; message: string }> {
  if (backend === undefined) return { ok: true };
  if (locked.job.state === 'intent') {
    try {
      const video = await findCreatedJob(backend.client, {
        request: locked.job.request,
        resultSeconds: locked.seconds,
        intentAt: locked.job.intentAt,
        claimed,
      });
      if (video === undefined) return { ok: true, found: null };
      claimed.add(video.id);
      return { ok: true, found: video.id };
    } catch (e: unknown) {
      return { ok: false, message: `could not look for a job the interrupted run may have created: ${describeCallError(e, backend.baseURL)}` };
    }
  }
  const jobId = locked.job.jobId;
  if (keepJobs.has(jobId)) return { ok: true };
  try {
    await backend.client.videos.delete(jobId);
    return { ok: true };
  } catch (e: unknown) {
    // Already gone (expired, deleted elsewhere): the goal is reached.
    if (e instanceof APIError && e.status === 404) return { ok: true };
    // The API deletes only finished jobs; one of an interrupted run may still be running.
    const status = await backend.client.videos.retrieve(jobId).then((v) => v.status, () => undefined);
    if (status !== undefined && !isTerminalStatus(status)) {
      return { ok: false, message: `job ${jobId} is still ${status} and the API deletes only finished jobs; run \`vidbuild prune\` again once it has finished` };
    }
    return { ok: false, message: describeCallError(e, backend.baseURL) };
  }
}
