import { createReadStream, createWriteStream, existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { describeLocalWriteAt, LocalFileError, localWriteErrorOf } from '../../src/core/local-write-error.js';
import { fileOfTempName } from '../../src/lock/sweep-stale-temp.js';
import { classifyCallError } from '../../src/execute/classify-error.js';
import { readUpload, UploadReadError } from '../../src/execute/send-job.js';
import type { ProjectPath } from '../../src/manifest/manifest.js';
import { apply, emulator, posts, tempProject } from './rig.js';

/**
 * A local write error (disk full, quota, read-only, a directory in the way)
 * is not a network fault: the target fails at once with the directory and
 * errno, no download is retried, the file in place is untouched. (The full
 * tmpfs scenario is test/reliability/disk-full.test.ts, root only.)
 */
function errnoError(code: string, syscall = 'write'): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failed, ${syscall}`), { code, syscall, errno: -1 });
}

describe('local write errors are told apart from network faults', () => {
  it.skipIf(!existsSync('/dev/full'))('a real ENOSPC (writing /dev/full, directly and through a stream pipeline)', async () => {
    const direct = await fsp.writeFile('/dev/full', 'x').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(localWriteErrorOf(direct)).toMatchObject({ errno: 'ENOSPC', what: 'no space left on the device' });
    const piped = await pipeline(createReadStream('/dev/zero', { end: 1 << 16 }), createWriteStream('/dev/full')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(localWriteErrorOf(piped)?.errno).toBe('ENOSPC');
  });

  it.each(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EISDIR'])('%s is a local write error, also wrapped in a cause', (code) => {
    expect(localWriteErrorOf(errnoError(code))?.errno).toBe(code);
    expect(localWriteErrorOf(new Error('pipeline failed', { cause: errnoError(code) }))?.errno).toBe(code);
  });

  it.each(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'ECONNREFUSED'])('%s is not (a download of it may be retried)', (code) => {
    expect(localWriteErrorOf(errnoError(code, 'read'))).toBeUndefined();
  });

  it('plain errors and non-errors are not', () => {
    expect(localWriteErrorOf(new Error('terminated'))).toBeUndefined();
    expect(localWriteErrorOf('ENOSPC')).toBeUndefined();
    expect(localWriteErrorOf(undefined)).toBeUndefined();
  });
});

describe('the one line a local write error becomes', () => {
  it.each([
    ['EROFS', 'open', 'cannot write .vidbuild/cache/x: read-only file system (EROFS)'],
    ['ENOSPC', 'write', 'cannot write .vidbuild/cache/x: no space left on the device (ENOSPC)'],
    ['EACCES', 'mkdir', 'cannot write .vidbuild/cache/x: permission denied (EACCES)'],
    ['EACCES', 'scandir', 'cannot read .vidbuild/cache/x: permission denied (EACCES)'],
  ])('%s in %s', (code, syscall, line) => {
    const w = localWriteErrorOf(errnoError(code, syscall));
    expect(w === undefined ? undefined : describeLocalWriteAt(w, '.vidbuild/cache/x')).toBe(line);
  });

  it('a LocalFileError names the file its writer was writing (Node names none for a failed write)', () => {
    const e = new LocalFileError('/p/videos.lock', errnoError('ENOSPC'));
    expect(localWriteErrorOf(e)).toMatchObject({ errno: 'ENOSPC', path: '/p/videos.lock' });
    expect(e.message).toBe('cannot write /p/videos.lock: no space left on the device (ENOSPC)');
  });

  it.each([
    ['videos.lock.3065357247', 'videos.lock'],
    ['ads.lock.12', 'ads.lock'],
    ['run.lock.4242.0a1b2c3d.tmp', 'run.lock'],
    ['.a.mp4.0a1b2c3d.tmp', 'a.mp4'],
    [`${'ab'.repeat(32)}.json.77`, `${'ab'.repeat(32)}.json`],
    ['a.mp4', undefined],
    ['notes.txt.12', undefined],
  ])('temp file %s stands for %s', (temp, file) => {
    expect(fileOfTempName(temp)).toBe(file);
  });
});

describe('a file to upload that cannot be read', () => {
  it('is known to be unsent: the paid call fails like a refusal, never reconciled or resent as an unknown outcome', async () => {
    const dir = await tempProject({ 'refs/dir/.keep': '' });
    for (const rel of ['refs/gone.png', 'refs/dir'] as ProjectPath[]) {
      const e = await readUpload(dir, rel, undefined).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(UploadReadError);
      expect(classifyCallError(e)).toMatchObject({ kind: 'refused', code: 'input-unreadable' });
      expect((e as Error).message).toMatch(/^cannot read refs\/(gone\.png|dir) to upload it \((ENOENT|EISDIR)\); nothing was sent$/);
    }
  });
});

describe('apply: an output that cannot be written', () => {
  it('a directory where a new job\'s output goes refuses the run before anything is paid, naming the output', async () => {
    const emu = await emulator();
    const dir = await tempProject({
      'videos.yaml': `version: 1
defaults: { model: sora-2, size: 720x1280, seconds: 4 }
outDir: out
videos:
  blocked: { prompt: A lighthouse at dawn. }
  fine: { prompt: A quiet harbour. }
`,
      // A directory where the output file should go (a rename onto it would be EISDIR).
      'out/blocked.mp4/keep': 'mine',
    });
    const r = await apply(dir, emu);
    expect(r.code).toBe(1);
    // Found after paying, the job's output could not have been written: refused first (it used to pay, then fail the target).
    expect(r.stderr).toContain("blocked: out/blocked.mp4 is a directory, where the new job's output goes; nothing was done: move it out of the way");
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(posts(emu)).toBe(0);
    expect(await fsp.readFile(path.join(dir, 'out', 'blocked.mp4', 'keep'), 'utf8')).toBe('mine');
    const leftovers = (await fsp.readdir(path.join(dir, 'out'))).filter((f) => f.endsWith('.tmp'));
    expect(leftovers).toEqual([]);
  });
});
