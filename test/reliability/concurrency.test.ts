import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { readLockfile } from '../../src/lock/read-lockfile.js';
import { runCli, startCli, tempDir } from './run-cli.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';

/**
 * Concurrency campaign: whatever runs at the same time as an apply (a second
 * apply, a prune, a watch) fails fast naming the holder, and the lockfile
 * stays valid; a run lock left by kill -9 is taken over with a message.
 * Every step waits on the children's output, never on a timer.
 */

let emulator: RunningEmulator;
let emuDir: string;

beforeAll(async () => {
  emuDir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-concurrency-emu-'));
  // Slow enough that a run is reliably still going when the second command starts.
  emulator = await startEmulator({ dir: emuDir, jobSeconds: 3, fps: 4 });
});

afterAll(async () => {
  await emulator?.stop();
  if (emuDir !== undefined) await rm(emuDir, { recursive: true, force: true });
});

async function project(tag: string): Promise<string> {
  const dir = await tempDir('vidbuild-concurrency-');
  await writeFile(path.join(dir, 'videos.yaml'), `version: 1\nvideos:\n  a: { prompt: "${tag} one" }\n`);
  return dir;
}

async function expectValidLock(dir: string): Promise<void> {
  const r = await readLockfile(dir);
  expect(r.ok ? 'valid' : r.error.message).toBe('valid');
}

const APPLY = (): string[] => ['apply', '--base-url', emulator.baseURL, '--yes'];
const SUBMITTED = /submitted \w+ job video_/;

describe('concurrent commands on one project', () => {
  it('a second apply, a prune and an import while apply runs fail fast naming the holder; the lock stays valid', async () => {
    const dir = await project('holder');
    const first = startCli(APPLY(), { cwd: dir });
    onTestFinished(() => first.kill('SIGKILL'));
    await first.waitFor(SUBMITTED);
    for (const args of [APPLY(), ['prune', '--base-url', emulator.baseURL, '--yes'], ['import', 'a', 'video_x', '--base-url', emulator.baseURL]]) {
      const other = await runCli(args, { cwd: dir });
      expect(other.code, args[0]).toBe(1);
      expect(other.stderr, args[0]).toMatch(new RegExp(`in use by pid ${first.pid} \\(vidbuild apply, since \\d\\d:\\d\\d:\\d\\d\\)`));
      await expectValidLock(dir);
    }
    const done = await first.done;
    expect(done.code).toBe(0);
    await expectValidLock(dir);
    await expect(stat(path.join(dir, '.vidbuild', 'run.lock'))).rejects.toThrow();
  });

  it('apply while watch holds the project fails fast naming watch', async () => {
    const dir = await project('watched');
    const watch = startCli(['watch', '--base-url', emulator.baseURL, '--yes'], { cwd: dir });
    onTestFinished(() => watch.kill('SIGKILL'));
    await watch.waitFor(SUBMITTED);
    const apply = await runCli(APPLY(), { cwd: dir });
    expect(apply.code).toBe(1);
    expect(apply.stderr).toMatch(new RegExp(`in use by pid ${watch.pid} \\(vidbuild watch`));
    watch.kill('SIGINT');
    await watch.done;
    await expectValidLock(dir);
  });

  it('a run lock left by kill -9 is taken over with a message, and the run resumes', async () => {
    const dir = await project('stale');
    const first = startCli(APPLY(), { cwd: dir });
    await first.waitFor(SUBMITTED);
    first.kill('SIGKILL');
    await first.done;
    const held: unknown = JSON.parse(await readFile(path.join(dir, '.vidbuild', 'run.lock'), 'utf8'));
    expect(held).toMatchObject({ pid: first.pid, command: 'apply' });
    await expectValidLock(dir);
    const second = await runCli(APPLY(), { cwd: dir });
    expect(second.stderr).toContain(`took over .vidbuild/run.lock from pid ${first.pid} (vidbuild apply`);
    expect(second.code).toBe(0);
    await expectValidLock(dir);
    const created = emulator.stats().requests['POST /videos'] ?? 0;
    expect(created).toBeGreaterThan(0);
    const again = await runCli(['plan', '--detailed-exitcode'], { cwd: dir });
    expect(again.code).toBe(0);
  });
});
