import path from 'node:path';
import { APIError } from 'openai';
import { errorDiagnostic, formatDiagnostic, type Diagnostic } from '../../core/diagnostic.js';
import { referencedFilesOf, sourceTargetOf, type AssetVariant } from '../../manifest/manifest.js';
import type { CharacterId, JobId, LockedAsset, LockedTarget, Lockfile } from '../../lock/lockfile.js';
import { isJobId } from '../../lock/lock-names.js';
import { writeLockfile } from '../../lock/write-lockfile.js';
import { buildJobRequest } from '../../plan/job-request.js';
import { fingerprintAsMade, importDifferences, requestAsMade, type JobAsMade } from '../../plan/import-mismatch.js';
import { unknownTargetNames } from '../../plan/target-selection.js';
import { createBackend } from '../../backend/create-backend.js';
import { scrubSecret } from '../../backend/api-key.js';
import { openProject, planProject } from '../../execute/open-project.js';
import { lockRecordsOutput, lockRecordsPath, overwriteGuard } from '../../execute/overwrite-guard.js';
import { downloadAsset } from '../../execute/download-asset.js';
import { describeCallError } from '../../execute/classify-error.js';
import { outputPathInside } from '../../execute/output-path.js';
import { projectCache } from '../../execute/local-cache-adapter.js';
import { formatBytes } from '../progress/describe-event.js';

/**
 * `vidbuild import NAME VIDEO_ID`: adopt a job made elsewhere (the API
 * playground, another tool, a lost lockfile) as target NAME. The job must be
 * completed and made from what the target asks for (prompt, model, size,
 * seconds, source): it is then locked under the target's current
 * fingerprint, so the next plan sees it as up to date, and its assets are
 * downloaded into place and into the cache. A job made from something else
 * is refused, naming what differs; with `--force` it is recorded as made, so
 * the next plan shows the replace. Nothing is generated, nothing is paid.
 */
export async function run(opts: Record<string, unknown>, args: readonly string[]): Promise<number> {
  const [name, videoId] = args;
  const err = process.stderr;
  const out = process.stdout;
  const fail = (d: Diagnostic): number => {
    err.write(`${formatDiagnostic(d)}\n`);
    return 1;
  };
  if (name === undefined || videoId === undefined || !isJobId(videoId)) {
    return fail(errorDiagnostic('usage', 'usage: vidbuild import NAME VIDEO_ID'));
  }
  const file = typeof opts['file'] === 'string' ? opts['file'] : 'videos.yaml';
  const force = opts['force'] === true;
  const opened = await openProject({ file, cwd: process.cwd(), lockFor: 'import' });
  if (!opened.ok) {
    for (const d of opened.error) err.write(`${formatDiagnostic(d)}\n`);
    return 1;
  }
  const project = opened.value;
  const releaseOnExit = (): void => project.runLock?.releaseSync();
  process.once('exit', releaseOnExit);
  try {
    const target = [...project.manifest.targets.values()].find((t) => t.name === name);
    if (target === undefined) {
      const shown = path.relative(process.cwd(), project.manifest.file) || project.manifest.file;
      const hint = unknownTargetNames(project.manifest, [name])[0]?.suggestion;
      return fail(errorDiagnostic('unknown-target', `no target named ${name} in ${shown}${hint === undefined ? '' : ` (did you mean ${hint}?)`}`));
    }
    const { plan, facts } = await planProject(project, { targets: [target.name] });
    const step = plan.steps.find((s) => s.name === target.name);
    if (step === undefined || step.action === 'orphan') return fail(errorDiagnostic('unknown-target', `no target named ${name}`));
    if (step.provisional) {
      // Name what is missing and what the plan would do with it: a source
      // that was never generated is not "regenerated".
      const pending: string[] = [];
      const sourceStep = plan.steps.find((s) => s.name === sourceTargetOf(target));
      if (sourceStep !== undefined && sourceStep.action !== 'unchanged' && sourceStep.action !== 'fetch') {
        pending.push(`its source ${sourceStep.name} has no job to build on yet (plan: ${sourceStep.action})`);
      }
      for (const c of plan.characters) {
        if (target.characters.includes(c.name) && c.action !== 'unchanged') pending.push(`character ${c.name} is not created yet (plan: ${c.action})`);
      }
      const what = pending.length > 0 ? pending.join('; ') : 'its source or characters will be regenerated';
      return fail(errorDiagnostic('source-not-ready', `${name}: ${what}; apply or import ${pending.length === 1 ? 'it' : 'them'} first`));
    }

    const backendRes = await createBackend({
      kind: opts['backend'] === 'emulator' ? 'emulator' : 'openai',
      baseURL: typeof opts['baseUrl'] === 'string' ? opts['baseUrl'] : undefined,
      provider: project.manifest.provider,
      projectDir: project.manifest.projectDir,
      env: process.env,
    });
    if (!backendRes.ok) return fail(backendRes.error);
    const backend = backendRes.value;
    try {
      let video;
      try {
        video = await backend.client.videos.retrieve(videoId);
      } catch (e: unknown) {
        if (e instanceof APIError && e.status === 404) return fail(errorDiagnostic('job-not-found', `no job ${videoId} at ${backend.baseURL}`));
        return fail(errorDiagnostic('api-error', scrubSecret(describeCallError(e, backend.baseURL), backend.secret)));
      }
      if (video.status !== 'completed') {
        return fail(errorDiagnostic('job-not-completed', `job ${videoId} is ${video.status}; only a completed job can be imported`));
      }
      const sourceName = sourceTargetOf(target);
      // The source's job as the plan keeps it: the locked one, or the one the
      // next apply restores from the cache (not in the lock yet). The
      // fingerprint was computed from it; the request must name it too.
      const sourceStep = plan.steps.find((s) => s.name === sourceName);
      const sourceLocked = sourceStep?.locked?.job;
      const sourceJobId: JobId | undefined =
        sourceStep === undefined || sourceStep.action === 'orphan'
          ? undefined
          : (sourceStep.fromCache?.jobId ?? (sourceLocked?.state === 'job' ? sourceLocked.jobId : undefined));
      const asMade: JobAsMade = {
        id: videoId,
        prompt: typeof video.prompt === 'string' ? video.prompt : null,
        model: video.model,
        size: video.size,
        seconds: Number(video.seconds),
        remixedFrom: typeof video.remixed_from_video_id === 'string' && isJobId(video.remixed_from_video_id) ? video.remixed_from_video_id : null,
      };
      const differences = importDifferences(asMade, target, sourceJobId);
      if (differences.length > 0 && !force) {
        return fail(
          errorDiagnostic(
            'import-mismatch',
            `job ${videoId} is not what ${name} asks for: ${differences.map((d) => d.text).join('; ')}; import it anyway with --force (the lock then records the job as made, and the next plan replaces it)`,
          ),
        );
      }
      for (const d of differences) err.write(`warning: job ${videoId} is ${d.field === 'source' ? d.text : `not ${name}'s ${d.field}: ${d.text}`}\n`);
      // The job this replaces in the lock is paid for; name it so it is not lost track of.
      const previous = project.lock.videos[target.name]?.job;
      if (previous?.state === 'intent') {
        err.write(`warning: ${name} had a job request from an interrupted run (${previous.intentAt}) that may exist on the server; it is no longer tracked\n`);
      } else if (previous !== undefined && previous.jobId !== videoId) {
        err.write(`warning: ${name} was job ${previous.jobId} (${previous.status}); it stays on the server but is no longer in ${path.basename(project.lockPath)}\n`);
      }
      // As apply does: the lock records the media as the API made it.
      const madeSeconds = Number(video.seconds);
      const made =
        typeof video.size === 'string' && /^\d{2,5}x\d{2,5}$/.test(video.size) && Number.isFinite(madeSeconds) && madeSeconds > 0
          ? { size: video.size, seconds: madeSeconds }
          : { size: target.size, seconds: target.seconds };
      const characterIds: CharacterId[] = [];
      for (const c of target.characters) {
        const lc = project.lock.characters[c];
        if (lc?.job.state === 'created') characterIds.push(lc.job.characterId);
      }
      const file0 = referencedFilesOf(target)[0];
      const asked = buildJobRequest(target, {
        sourceJobId,
        uploadSha256: file0 === undefined ? undefined : facts.fileHashes.get(file0),
        characterIds,
      });
      // Forced over a mismatch: the lock says what the job really is, never that it is this target.
      const request = differences.length === 0 ? asked : requestAsMade(asked, asMade, target);
      const fingerprint = differences.length === 0 ? step.fingerprint : fingerprintAsMade(request, videoId);
      const at = new Date().toISOString();
      const cache = projectCache(project.manifest.projectDir);
      // Only a file the lock records as written by vidbuild is replaced by the import's download.
      const guard = overwriteGuard({
        projectDir: project.manifest.projectDir,
        recorded: (rel, sha) => lockRecordsOutput(project.lock, rel, sha),
        recordedPath: (rel) => lockRecordsPath(project.lock, rel),
        force: false,
        forceHint: '',
      });
      const assets: Partial<Record<AssetVariant, LockedAsset>> = {};
      for (const variant of target.assets) {
        const rel = target.outputs[variant];
        if (rel === undefined) continue;
        const dest = await outputPathInside(project.manifest.projectDir, rel);
        if (!dest.ok) return fail(errorDiagnostic(dest.error.code, dest.error.message));
        const got = await downloadAsset({ client: backend.client, jobId: videoId, variant, dest: dest.value, guard });
        if (!got.ok) return fail(errorDiagnostic(got.error.code, `${name}: ${got.error.message}`));
        assets[variant] = { path: rel, bytes: got.value.bytes, sha256: got.value.sha256 };
        await cache.add(
          {
            fingerprint,
            name: target.name,
            kind: target.kind,
            prompt: target.prompt,
            model: target.model,
            size: made.size,
            seconds: made.seconds,
            jobId: videoId,
            createdAt: new Date(video.created_at * 1000).toISOString(),
            completedAt: video.completed_at === null ? undefined : new Date(video.completed_at * 1000).toISOString(),
            expiresAt: video.expires_at === null ? undefined : new Date(video.expires_at * 1000).toISOString(),
          },
          variant,
          dest.value,
          got.value.sha256,
          got.value.bytes,
        );
        out.write(`  ${rel} (${formatBytes(got.value.bytes)})\n`);
      }
      const entry: LockedTarget = {
        kind: target.kind,
        fingerprint,
        model: differences.length === 0 ? target.model : asMade.model,
        size: made.size,
        seconds: made.seconds,
        ...(sourceName === undefined ? {} : { source: sourceName }),
        job: {
          state: 'job',
          jobId: videoId,
          status: 'completed',
          progress: 100,
          request,
          createdAt: new Date(video.created_at * 1000).toISOString(),
          ...(video.completed_at === null ? {} : { completedAt: new Date(video.completed_at * 1000).toISOString() }),
          ...(video.expires_at === null ? {} : { expiresAt: new Date(video.expires_at * 1000).toISOString() }),
        },
        assets,
        updatedAt: at,
      };
      const lock: Lockfile = { ...project.lock, videos: { ...project.lock.videos, [target.name]: entry } };
      await writeLockfile(project.lockPath, lock);
      out.write(`imported job ${videoId} as ${name}\n`);
      return 0;
    } finally {
      await backend.close();
    }
  } finally {
    await project.runLock?.release();
    process.removeListener('exit', releaseOnExit);
  }
}
