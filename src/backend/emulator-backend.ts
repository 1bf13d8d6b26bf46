import path from 'node:path';
import { startEmulator, type RunningEmulator } from '../emulator/server.js';

/**
 * `--backend emulator`: an emulator in this process, its state under
 * `<project>/.vidbuild/emulator` so job ids survive between runs (a re-run
 * resumes and fetches from it like from the real API).
 *
 * Speed knobs come from the environment so tests and demos can make jobs
 * fast without new CLI flags:
 *   VIDBUILD_EMULATOR_JOB_SECONDS  simulated generation time per job
 *   VIDBUILD_EMULATOR_FPS          frames per second of rendered MP4s
 *   VIDBUILD_EMULATOR_LATENCY_MS   delay added to every response
 *   VIDBUILD_EMULATOR_RENDER_CACHE directory of rendered clips to share between projects
 */
export async function startEmulatorBackend(projectDir: string, env: NodeJS.ProcessEnv): Promise<RunningEmulator> {
  const dir = path.join(projectDir, '.vidbuild', 'emulator');
  const jobSeconds = numberFrom(env['VIDBUILD_EMULATOR_JOB_SECONDS']);
  const fps = numberFrom(env['VIDBUILD_EMULATOR_FPS']);
  const latencyMs = numberFrom(env['VIDBUILD_EMULATOR_LATENCY_MS']);
  const renderCacheDir = env['VIDBUILD_EMULATOR_RENDER_CACHE'];
  return startEmulator({
    dir,
    projectDir,
    port: 0,
    ...(jobSeconds === undefined ? {} : { jobSeconds }),
    ...(fps === undefined ? {} : { fps }),
    ...(latencyMs === undefined ? {} : { latencyMs }),
    ...(renderCacheDir === undefined || renderCacheDir === '' ? {} : { renderCacheDir }),
  });
}

function numberFrom(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
