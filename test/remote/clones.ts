import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { cliEnv, collect, expectLockMatchesDisk, readLock, spawnCli, tempProject, type CliResult } from '../apply/rig.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import type { RunningS3 } from './s3-server.js';

/** Two clones of one 20-target project sharing one remote: the shared lock and shard tests' rig. */
export const TARGETS = 20;

/** 15 clips and 5 remixes of the first five: dependents wait for their source's job, whichever clone made it. */
export function manifest(): string {
  const lines = ['version: 1', 'defaults: { model: sora-2, size: 720x1280, seconds: 4 }', 'outDir: out', 'videos:'];
  for (let i = 0; i < 15; i++) lines.push(`  clip${i}: { prompt: "Shared lock clip ${i}, a harbour at dawn." }`);
  for (let i = 0; i < 5; i++) lines.push(`  remix${i}: { remix: clip${i}, prompt: "The same harbour ${i} at night." }`);
  return `${lines.join('\n')}\n`;
}

export interface Clones {
  readonly a: string;
  readonly b: string;
  readonly env: NodeJS.ProcessEnv;
}

export async function clones(s3: RunningS3, bucket: string): Promise<Clones> {
  const text = manifest();
  return {
    a: await tempProject({ 'videos.yaml': text }),
    b: await tempProject({ 'videos.yaml': text }),
    env: cliEnv({ ...s3.env, VIDBUILD_REMOTE: `s3://${bucket}/proj` }),
  };
}

export function applyArgs(emu: RunningEmulator, extra: readonly string[] = []): string[] {
  return ['apply', '--yes', '--json', '--concurrency', '8', '--base-url', emu.baseURL, ...extra];
}

export function applyIn(dir: string, emu: RunningEmulator, env: NodeJS.ProcessEnv, extra: readonly string[] = []): Promise<CliResult> {
  return collect(spawnCli(applyArgs(emu, extra), dir, env));
}

/** Every target has a completed job and its outputs; returns target → job id. */
export async function expectComplete(dir: string, count = TARGETS): Promise<Map<string, string>> {
  const lock = await readLock(dir);
  const ids = new Map<string, string>();
  for (const [name, t] of Object.entries(lock.videos)) {
    expect(t.job, `${dir}: ${name}`).toMatchObject({ state: 'job', status: 'completed' });
    ids.set(name, t.job.jobId ?? '');
    await fsp.access(path.join(dir, 'out', `${name}.mp4`));
  }
  expect(ids.size).toBe(count);
  expect(await expectLockMatchesDisk(dir)).toBe(count);
  return ids;
}

export function countEvents(stdout: string, type: string, state?: string): number {
  return stdout.split('\n').filter((l) => l.includes(`"type":"${type}"`) && (state === undefined || l.includes(`"state":"${state}"`))).length;
}

