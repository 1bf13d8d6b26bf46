import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { runCli, tempDir } from './run-cli.js';

/**
 * Escapes that only show up when vidbuild acts: an output path that is a
 * symlink to a file outside the project, and a lockfile tampered (inside the
 * project's bounds) to name files vidbuild never wrote, e.g. the manifest
 * itself, as an orphan's output for `prune` to delete.
 */

let emulator: RunningEmulator;
let emuDir: string;
const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  emuDir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-tamper-emu-'));
  emulator = await startEmulator({ dir: emuDir, jobSeconds: 0.2, fps: 4 });
});
afterAll(async () => {
  await emulator?.stop();
  if (emuDir !== undefined) await rm(emuDir, { recursive: true, force: true });
});

const APPLY = (): string[] => ['apply', '--base-url', emulator.baseURL, '--yes'];

describe('tampered outputs and lockfiles', () => {
  it('an output path that is a symlink to a file outside is never written through', async () => {
    const dir = await tempDir('vidbuild-tamper-');
    const outside = await tempDir('vidbuild-tamper-outside-');
    const victim = path.join(outside, 'victim.mp4');
    await writeFile(victim, 'VICTIM-CONTENT');
    await mkdir(path.join(dir, 'videos'));
    await symlink(victim, path.join(dir, 'videos', 'a.mp4'));
    await writeFile(path.join(dir, 'videos.yaml'), 'version: 1\nvideos:\n  a: { prompt: "symlinked output" }\n');
    const r = await runCli(APPLY(), { cwd: dir });
    expect(await readFile(victim, 'utf8')).toBe('VICTIM-CONTENT');
    if (r.code === 0) {
      // Replaced the link by a real file inside the project: fine.
      expect((await lstat(path.join(dir, 'videos', 'a.mp4'))).isSymbolicLink()).toBe(false);
    } else {
      expect(r.stderr).toMatch(/videos\/a\.mp4/);
      expect(r.stderr).not.toMatch(/internal error/);
    }
  });

  it('prune of an orphan whose lock entry was tampered to name the manifest does not delete it', async () => {
    const dir = await tempDir('vidbuild-tamper-');
    const yaml = 'version: 1\nvideos:\n  a: { prompt: "kept target" }\n  z: { prompt: "soon orphaned" }\n';
    await writeFile(path.join(dir, 'videos.yaml'), yaml);
    expect((await runCli(APPLY(), { cwd: dir })).code).toBe(0);
    await writeFile(path.join(dir, 'notes.txt'), 'precious');
    const lock = await readFile(path.join(dir, 'videos.lock'), 'utf8');
    const tampered = lock.replace('"videos/z.mp4"', '"videos.yaml"');
    expect(tampered).not.toBe(lock);
    await writeFile(path.join(dir, 'videos.lock'), tampered);
    const shrunk = 'version: 1\nvideos:\n  a: { prompt: "kept target" }\n';
    await writeFile(path.join(dir, 'videos.yaml'), shrunk);
    const r = await runCli(['prune', '--base-url', emulator.baseURL, '--yes'], { cwd: dir });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(await readFile(path.join(dir, 'videos.yaml'), 'utf8')).toBe(shrunk);
  });

  it('apply with a lock whose asset path was moved to another project file does not overwrite or delete that file', async () => {
    const dir = await tempDir('vidbuild-tamper-');
    await writeFile(path.join(dir, 'videos.yaml'), 'version: 1\nvideos:\n  a: { prompt: "moved asset" }\n');
    expect((await runCli(APPLY(), { cwd: dir })).code).toBe(0);
    await writeFile(path.join(dir, 'notes.txt'), 'precious');
    const lock = await readFile(path.join(dir, 'videos.lock'), 'utf8');
    await writeFile(path.join(dir, 'videos.lock'), lock.replace('"videos/a.mp4"', '"notes.txt"'));
    await rm(path.join(dir, 'videos', 'a.mp4'));
    const r = await runCli(APPLY(), { cwd: dir });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(sha256(await readFile(path.join(dir, 'notes.txt')))).toBe(sha256('precious'));
  });
});
