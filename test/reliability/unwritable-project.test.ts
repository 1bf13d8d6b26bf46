import { createHash } from 'node:crypto';
import { chmod, chown, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { renderCacheDir } from '../apply/rig.js';
import { canMount, fill, mountTmpfs, remountReadOnly } from './mounts.js';
import { runCli, tempDir, type CliRun } from './run-cli.js';

/**
 * Errors, not crashes (issue 13 item 12): a project vidbuild cannot write —
 * read-only, full, not ours, something in the way of its state — made every
 * writing command exit 70 with a stack trace. Each must say in one line which
 * file and why, exit 1, and leave the lockfile and every file as they were.
 * Root cannot be refused by permissions, so the real causes come from mounts
 * (a read-only tmpfs, a full one) and from running as another user.
 */

let emulator: RunningEmulator;
let emuDir: string;

beforeAll(async () => {
  emuDir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-unwritable-emu-'));
  emulator = await startEmulator({ dir: emuDir, port: 0, jobSeconds: 0.2, fps: 4, renderCacheDir });
});
afterAll(async () => {
  await emulator?.stop();
  if (emuDir !== undefined) await rm(emuDir, { recursive: true, force: true });
});

const MANIFEST = (targets: Readonly<Record<string, string>>): string =>
  `version: 1\ndefaults: { model: sora-2, size: 720x1280, seconds: 4 }\nvideos:\n${Object.entries(targets)
    .map(([name, prompt]) => `  ${name}: { prompt: "${prompt}" }\n`)
    .join('')}`;

/** Every writing command, as a user would run it on this project. */
function commands(): readonly (readonly [string, readonly string[]])[] {
  const url = emulator.baseURL;
  return [
    ['apply', ['apply', '--yes', '--base-url', url]],
    ['pull', ['pull', '--base-url', url]],
    ['prune', ['prune', '--yes', '--base-url', url]],
    ['import', ['import', 'c', 'video_0123456789abcdef', '--base-url', url]],
    // Would run until stopped: a hang shows as runCli's "hung" failure.
    ['watch', ['watch', '--yes', '--base-url', url]],
  ];
}

/**
 * A project with two generated targets (a, b) in its lock and on disk, then
 * a manifest that has work for every command: a changed (apply), b gone
 * (prune), c new (import).
 */
async function generatedProject(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'videos.yaml'), MANIFEST({ a: 'A lighthouse at dawn', b: 'A quiet harbour' }));
  const r = await runCli(['apply', '--yes', '--base-url', emulator.baseURL], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  await writeFile(path.join(dir, 'videos.yaml'), MANIFEST({ a: 'A lighthouse at dusk', c: 'A new clip' }));
}

/** sha256 of every file under `dir` (but a filler), to show nothing changed. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const d of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!d.isFile() || d.name === 'filler') continue;
    const abs = path.join(d.parentPath, d.name);
    out[path.relative(dir, abs)] = createHash('sha256').update(await readFile(abs)).digest('hex');
  }
  return out;
}

/** Exit 1 and one line on stderr matching `line`: no stack, no "internal error". */
function expectOneLine(r: CliRun, line: RegExp, what: string): void {
  expect(r.stderr, what).not.toMatch(/internal error|\n\s+at /);
  expect(r.stderr.trim().split('\n'), what).toHaveLength(1);
  expect(r.stderr.trim(), what).toMatch(line);
  expect(r.code, `${what}: ${r.stderr}`).toBe(1);
}

describe('a project vidbuild cannot write: one line, exit 1, nothing changed', () => {
  it('.vidbuild/run.lock is a folder (any user)', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'videos.yaml'), MANIFEST({ a: 'A lighthouse at dawn' }));
    await mkdir(path.join(dir, '.vidbuild', 'run.lock'), { recursive: true });
    const before = await snapshot(dir);
    for (const [name, args] of commands()) {
      const r = await runCli(args, { cwd: dir, timeoutMs: 30_000 });
      expectOneLine(r, /^cannot read \.vidbuild\/run\.lock: a directory is in the way \(EISDIR\); nothing was changed$/, name);
    }
    expect(await snapshot(dir)).toEqual(before);
    expect(emulator.stats().requests['POST /videos'] ?? 0).toBe(0);
  });

  it.skipIf(!canMount()).each([
    ['.vidbuild/run.lock', true],
    // Node 20's recursive mkdir says ENOENT for a folder a read-only file system cannot make.
    ['.vidbuild', false],
  ])('a read-only project: EROFS on %s (tmpfs remounted read-only, root only)', async (file, keepState) => {
    const mount = await tempDir();
    mountTmpfs(mount, 8 << 20);
    const dir = path.join(mount, 'project');
    await generatedProject(dir);
    if (!keepState) await rm(path.join(dir, '.vidbuild'), { recursive: true });
    const posts = emulator.stats().requests['POST /videos'] ?? 0;
    const before = await snapshot(dir);
    remountReadOnly(mount);
    for (const [name, args] of commands()) {
      const r = await runCli(args, { cwd: dir, timeoutMs: 30_000 });
      expectOneLine(r, new RegExp(`^cannot write ${file.replace(/\./g, '\\.')}: read-only file system \\(EROFS\\); nothing was changed$`), name);
    }
    expect(await snapshot(dir)).toEqual(before);
    expect(emulator.stats().requests['POST /videos'] ?? 0).toBe(posts);
  });

  it.skipIf(!canMount())('a full disk: ENOSPC (a full tmpfs, root only)', async () => {
    const mount = await tempDir();
    mountTmpfs(mount, 8 << 20);
    const dir = path.join(mount, 'project');
    await generatedProject(dir);
    const before = await snapshot(dir);
    fill(mount);
    for (const [name, args] of commands()) {
      const r = await runCli(args, { cwd: dir, timeoutMs: 30_000 });
      expectOneLine(r, /^cannot write \.vidbuild\/run\.lock: no space left on the device \(ENOSPC\); nothing was changed$/, name);
    }
    expect(await snapshot(dir)).toEqual(before);
    // No temp file of the run lock left behind.
    expect(await readdir(path.join(dir, '.vidbuild'))).toEqual(['cache']);
  });

  it.skipIf(!canMount())('the lockfile cannot be written (its folder is read-only; .vidbuild and the outputs are not)', async () => {
    const mount = await tempDir();
    mountTmpfs(mount, 8 << 20);
    const dir = path.join(mount, 'project');
    await generatedProject(dir);
    const lockBefore = await readFile(path.join(dir, 'videos.lock'), 'utf8');
    const jobB = /"jobId": "(video_[0-9a-f]+)"/g.exec(lockBefore.slice(lockBefore.indexOf('"b"')))?.[1] ?? '';
    // .vidbuild and videos/ on writable mounts of their own, with their contents.
    const saved = await tempDir();
    for (const sub of ['.vidbuild', 'videos']) {
      await cp(path.join(dir, sub), path.join(saved, sub), { recursive: true });
      mountTmpfs(path.join(dir, sub), 4 << 20);
      await cp(path.join(saved, sub), path.join(dir, sub), { recursive: true });
    }
    remountReadOnly(mount);
    const posts = emulator.stats().requests['POST /videos'] ?? 0;

    // apply: the intent cannot be saved, so nothing is paid for; the target fails naming the lock.
    const applied = await runCli(['apply', '--yes', '--base-url', emulator.baseURL], { cwd: dir, timeoutMs: 30_000 });
    expect(applied.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(applied.code, applied.stderr).toBe(1);
    expect(applied.stdout).toMatch(/a: failed: write-failed: cannot write videos\.lock in .+: read-only file system \(EROFS\)/);
    expect(emulator.stats().requests['POST /videos'] ?? 0).toBe(posts);

    // import and prune: the lock is written last, and the one line names it.
    const imported = await runCli(['import', 'c', jobB, '--force', '--base-url', emulator.baseURL], { cwd: dir, timeoutMs: 30_000 });
    expect(imported.stderr.split('\n').filter((l) => !l.startsWith('warning:')).join('\n').trim()).toBe('cannot write videos.lock: read-only file system (EROFS)');
    expect(imported.code).toBe(1);
    const pruned = await runCli(['prune', '--yes', '--base-url', emulator.baseURL], { cwd: dir, timeoutMs: 30_000 });
    expectOneLine(pruned, /^cannot write videos\.lock: read-only file system \(EROFS\)$/, 'prune');

    expect(await readFile(path.join(dir, 'videos.lock'), 'utf8')).toBe(lockBefore);
  });

  it.skipIf(process.platform === 'win32')('permission denied: EACCES (as another user when root, else a folder without write permission)', async () => {
    const dir = await tempDir();
    await generatedProject(dir);
    const root = process.getuid?.() === 0;
    // As root, the project stays root's and the CLI runs as nobody; otherwise the folders lose their write bit.
    const as = root ? { uid: 65534, gid: 65534 } : {};
    if (root) await chmod(dir, 0o755);
    await chmod(path.join(dir, '.vidbuild'), 0o555);
    const before = await snapshot(dir);
    try {
      for (const [name, args] of commands()) {
        const r = await runCli(args, { cwd: dir, timeoutMs: 30_000, ...as });
        expectOneLine(r, /^cannot write \.vidbuild\/run\.lock: permission denied \(EACCES\); nothing was changed$/, name);
      }
      // .vidbuild writable, the project folder not: the lock's write is refused.
      await chmod(path.join(dir, '.vidbuild'), 0o777);
      if (root) await chown(path.join(dir, '.vidbuild'), 65534, 65534);
      else await chmod(dir, 0o555);
      const r = await runCli(['apply', '--yes', '--base-url', emulator.baseURL], { cwd: dir, timeoutMs: 30_000, ...as });
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toMatch(/a: failed: write-failed: cannot write videos\.lock in .+: permission denied \(EACCES\)/);
    } finally {
      await chmod(dir, 0o755);
      await chmod(path.join(dir, '.vidbuild'), 0o755);
    }
    // The planner's hash cache may land in .vidbuild, writable by then; the lock and outputs are as they were.
    const outside = (s: Record<string, string>) => Object.fromEntries(Object.entries(s).filter(([f]) => !f.startsWith('.vidbuild')));
    expect(outside(await snapshot(dir))).toEqual(outside(before));
  });
});
