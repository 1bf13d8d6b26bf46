import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { readLockfile } from '../../src/lock/read-lockfile.js';
import { runCli } from './run-cli.js';
import { canMount } from './mounts.js';

/**
 * Disk trouble: the project lives on a small tmpfs (mounted by the test, so
 * only as root where mounting is allowed; skipped otherwise). A replacement
 * that does not fit fills the disk during its download: apply must fail with
 * a clear error, leave the previous output byte-for-byte intact, keep the
 * lockfile valid and consistent with the disk, and leave no partial file.
 */


const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

let emulator: RunningEmulator;
let emuDir: string;

describe.skipIf(!canMount())('a full disk during download (tmpfs, root only)', () => {
  beforeAll(async () => {
    emuDir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-diskfull-emu-'));
    emulator = await startEmulator({ dir: emuDir, jobSeconds: 0.2, fps: 24 });
  });
  afterAll(async () => {
    await emulator?.stop();
    if (emuDir !== undefined) await rm(emuDir, { recursive: true, force: true });
  });

  const manifest = (prompt: string, seconds: number): string =>
    `version: 1\ndefaults: { model: sora-2, size: 720x1280 }\nvideos:\n  a: { prompt: "${prompt}", seconds: ${seconds} }\n`;

  /** Bytes of the clip the emulator renders for this request (renders are deterministic). */
  async function clipSize(prompt: string, seconds: number): Promise<number> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-diskfull-probe-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'videos.yaml'), manifest(prompt, seconds));
    const r = await runCli(['apply', '--base-url', emulator.baseURL, '--yes'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    return (await stat(path.join(dir, 'videos', 'a.mp4'))).size;
  }

  it('keeps the previous output and a consistent lock, with a clear error', async () => {
    const small = await clipSize('a small clip of a lighthouse', 4);
    const big = await clipSize('a much longer clip of the sea', 12);
    expect(big).toBeGreaterThan(small * 2);

    const mountPoint = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-diskfull-'));
    // Room for the first clip twice (output + cache copy) and the lock, but not for the big one.
    const size = Math.ceil((2 * small + Math.floor(big / 2) + 64 * 1024) / 4096) * 4096;
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mountPoint]);
    onTestFinished(async () => {
      execFileSync('umount', ['-l', mountPoint]);
      await rm(mountPoint, { recursive: true, force: true });
    });
    const dir = path.join(mountPoint, 'project');
    await mkdir(dir);

    await writeFile(path.join(dir, 'videos.yaml'), manifest('a small clip of a lighthouse', 4));
    const first = await runCli(['apply', '--base-url', emulator.baseURL, '--yes'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const before = await readFile(path.join(dir, 'videos', 'a.mp4'));
    const lockBefore = await readLockfile(dir);
    expect(lockBefore.ok).toBe(true);

    await writeFile(path.join(dir, 'videos.yaml'), manifest('a much longer clip of the sea', 12));
    const second = await runCli(['apply', '--base-url', emulator.baseURL, '--yes'], { cwd: dir });
    if (process.env.RELIABILITY_TRACE !== undefined) process.stderr.write(`${second.stdout}\n${second.stderr}\n`);
    expect(second.code).not.toBe(0);
    expect(second.stdout + second.stderr).toMatch(/no space|ENOSPC|disk is full/i);
    expect(second.stderr).not.toMatch(/internal error|\n\s+at .+:\d+:\d+/);

    // The previous output is intact.
    expect(sha256(await readFile(path.join(dir, 'videos', 'a.mp4')))).toBe(sha256(before));
    // The lock parses and every asset it records is on disk with its hash.
    const lock = await readLockfile(dir);
    expect(lock.ok ? 'valid' : lock.error.message).toBe('valid');
    if (!lock.ok) return;
    for (const entry of Object.values(lock.value.videos)) {
      for (const asset of Object.values(entry.assets)) {
        if (asset === undefined) continue;
        expect(sha256(await readFile(path.join(dir, asset.path)))).toBe(asset.sha256);
      }
    }
    // No partial download left behind.
    const leftovers = (await readdir(dir, { recursive: true })).map(String).filter((f) => /\.tmp$|\.tmp\.|videos\.lock\.\d+$/.test(f));
    expect(leftovers).toEqual([]);
  });
});
