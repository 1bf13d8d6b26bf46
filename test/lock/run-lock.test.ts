import { describe, expect, it, onTestFinished } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireRunLock, RUN_LOCK_PATH } from '../../src/lock/run-lock.js';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-runlock-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('run lock', () => {
  it('is exclusive and names its holder; release frees it', async () => {
    const dir = await tempDir();
    const first = await acquireRunLock(dir, 'apply', { now: () => new Date(2025, 0, 1, 12, 1, 3) });
    if (!first.ok) throw new Error(first.error.message);
    expect(JSON.parse(await readFile(path.join(dir, RUN_LOCK_PATH), 'utf8'))).toMatchObject({ pid: process.pid, command: 'apply' });

    const second = await acquireRunLock(dir, 'watch');
    expect(second.ok).toBe(false);
    if (!second.ok) {
      expect(second.error.code).toBe('run-locked');
      expect(second.error.message).toBe(`this project is in use by pid ${process.pid} (vidbuild apply, since 12:01:03)`);
    }

    await first.value.release();
    expect(existsSync(path.join(dir, RUN_LOCK_PATH))).toBe(false);
    const third = await acquireRunLock(dir, 'watch');
    expect(third.ok).toBe(true);
    if (third.ok) third.value.releaseSync();
    expect(existsSync(path.join(dir, RUN_LOCK_PATH))).toBe(false);
  });

  it('takes over a lock whose process is gone, with a warning', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, '.vidbuild'));
    const stale = { pid: 999_999_9, hostname: os.hostname(), command: 'apply', startedAt: new Date().toISOString() };
    await writeFile(path.join(dir, RUN_LOCK_PATH), JSON.stringify(stale));
    const r = await acquireRunLock(dir, 'apply', { isAlive: (pid) => pid !== stale.pid });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.warning?.message).toMatch(/took over .*pid 9999999 .*no longer running/);
    expect(JSON.parse(await readFile(path.join(dir, RUN_LOCK_PATH), 'utf8')).pid).toBe(process.pid);
    await r.value.release();
  });

  it('does not take over a lock held on another host', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, '.vidbuild'));
    await writeFile(path.join(dir, RUN_LOCK_PATH), JSON.stringify({ pid: 42, hostname: 'ci-runner-7', command: 'apply', startedAt: 'x' }));
    const r = await acquireRunLock(dir, 'apply', { isAlive: () => false });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain('pid 42 on ci-runner-7');
  });

  it('does not release a lock someone else holds now', async () => {
    const dir = await tempDir();
    const r = await acquireRunLock(dir, 'apply');
    if (!r.ok) throw new Error(r.error.message);
    const other = JSON.stringify({ pid: 1, hostname: 'h', command: 'watch', startedAt: 'x' });
    await writeFile(path.join(dir, RUN_LOCK_PATH), other);
    await r.value.release();
    expect(await readFile(path.join(dir, RUN_LOCK_PATH), 'utf8')).toBe(other);
  });

  it('never reads or writes through a .vidbuild or run.lock that leads outside the project', async () => {
    const dir = await tempDir();
    const outside = await tempDir();
    await symlink(outside, path.join(dir, '.vidbuild'));
    const r = await acquireRunLock(dir, 'apply');
    expect(r.ok ? 'acquired' : r.error.message).toBe(
      `.vidbuild is a symlink leading outside the project (to ${outside}); vidbuild reads and writes only inside the manifest's folder: replace it with a folder`,
    );
    expect(await readdir(outside)).toEqual([]);

    const other = await tempDir();
    await mkdir(path.join(other, '.vidbuild'));
    await writeFile(path.join(outside, 'secret'), JSON.stringify({ pid: 1, hostname: 'elsewhere', command: 'apply', startedAt: 'x' }));
    await symlink(path.join(outside, 'secret'), path.join(other, RUN_LOCK_PATH));
    const held = await acquireRunLock(other, 'apply');
    expect(held.ok ? 'acquired' : held.error.message).toBe(`${RUN_LOCK_PATH} is a symlink, not a run lock vidbuild wrote; if no vidbuild is running, delete it`);
    expect(await readdir(path.join(other, '.vidbuild'))).toEqual(['run.lock']);
  });
});
