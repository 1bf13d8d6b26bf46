import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../reliability/run-cli.js';

/**
 * `vidbuild status | head -1`: the reader goes away after the first line.
 * That crashed every command with an unhandled EPIPE and a stack trace; now
 * the rest of the output is dropped and the command finishes (an apply still
 * records every job in the lock).
 */
let project: string;

beforeAll(async () => {
  project = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-pipe-'));
  const many = Array.from({ length: 2000 }, (_, i) => `  t${i}: { prompt: "Lighthouse number ${i}." }`).join('\n');
  await writeFile(path.join(project, 'videos.yaml'), `version: 1\nvideos:\n${many}\n`);
  await writeFile(path.join(project, 'two.yaml'), 'version: 1\noutDir: out\nvideos:\n  x: { prompt: "A boat." }\n  y: { prompt: "A gull." }\n');
});
afterAll(() => rm(project, { recursive: true, force: true }));

/** Runs the CLI and closes its stdout as soon as the first chunk arrives, as `| head -1` does. */
function runThenClose(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: project,
      env: { ...process.env, NO_COLOR: '1', VIDBUILD_EMULATOR_JOB_SECONDS: '0.3', VIDBUILD_EMULATOR_FPS: '4' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('stdout closed by the reader', () => {
  it.each([[['plan']], [['plan', '--json']], [['status']], [['status', '--json']], [['validate', '--json']], [['--help']]])(
    '%j finishes quietly',
    async (args) => {
      const r = await runThenClose(args);
      expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
      expect(r.code).toBe(0);
    },
  );

  it('apply keeps going and locks every job', async () => {
    const r = await runThenClose(['apply', '--backend', 'emulator', '-f', 'two.yaml']);
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(r.code).toBe(0);
    const lock = JSON.parse(await readFile(path.join(project, 'two.lock'), 'utf8')) as { videos: Record<string, { job: { status?: string } }> };
    expect(Object.keys(lock.videos).sort()).toEqual(['x', 'y']);
    for (const t of Object.values(lock.videos)) expect(t.job.status).toBe('completed');
  });
});
