import { spawnSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';

/**
 * `videos.lock` and `.vidbuild/` may be symlinks only to places inside the
 * project (as outputs may): plan and apply refuse one leading out — or
 * nowhere — before reading or writing anything through it.
 */
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/vidbuild.js');
const MANIFEST = 'version: 1\ndefaults: { model: sora-2, size: 720x1280, seconds: 4 }\nvideos:\n  a: { prompt: A lighthouse at dawn. }\n';
const EMPTY_LOCK = '{"lockfileVersion": 1, "videos": {}, "characters": {}}\n';

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function vidbuild(cwd: string, ...args: string[]) {
  const env = {
    ...process.env,
    NO_COLOR: '1',
    VIDBUILD_EMULATOR_JOB_SECONDS: '0.2',
    VIDBUILD_EMULATOR_FPS: '4',
    VIDBUILD_EMULATOR_RENDER_CACHE: path.join(os.tmpdir(), 'vidbuild-test-apply-renders'),
  };
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a lockfile or state folder that is a symlink', () => {
  it('leading outside the project: plan and apply refuse it in one line, and the file outside is untouched', async () => {
    const dir = await tempDir('vidbuild-locklink-');
    const outside = await tempDir('vidbuild-locklink-outside-');
    await writeFile(path.join(dir, 'videos.yaml'), MANIFEST);
    await writeFile(path.join(outside, 'their.lock'), EMPTY_LOCK);
    await symlink(path.join(outside, 'their.lock'), path.join(dir, 'videos.lock'));
    const message = `videos.lock is a symlink leading outside the project (to ${path.join(outside, 'their.lock')}); vidbuild reads and writes only inside the manifest's folder: replace it with the lockfile itself\n`;

    expect(vidbuild(dir, 'plan')).toEqual({ code: 1, stdout: '', stderr: message });
    expect(vidbuild(dir, 'apply', '--backend', 'emulator', '--yes')).toEqual({ code: 1, stdout: '', stderr: message });
    expect(await readFile(path.join(outside, 'their.lock'), 'utf8')).toBe(EMPTY_LOCK);
    expect(await readdir(outside)).toEqual(['their.lock']);
    expect((await lstat(path.join(dir, 'videos.lock'))).isSymbolicLink()).toBe(true);
    expect(await readdir(dir)).not.toContain('videos');
  });

  it('leading nowhere: refused too (a write would create the file wherever the link points)', async () => {
    const dir = await tempDir('vidbuild-locklink-');
    const outside = await tempDir('vidbuild-locklink-outside-');
    await writeFile(path.join(dir, 'videos.yaml'), MANIFEST);
    await symlink(path.join(outside, 'later.lock'), path.join(dir, 'videos.lock'));
    const message = 'videos.lock is a symlink to something that does not exist; vidbuild does not follow it: replace it with the lockfile itself\n';
    expect(vidbuild(dir, 'plan')).toEqual({ code: 1, stdout: '', stderr: message });
    expect(vidbuild(dir, 'apply', '--backend', 'emulator', '--yes')).toEqual({ code: 1, stdout: '', stderr: message });
    expect(await readdir(outside)).toEqual([]);
  });

  it('a .vidbuild folder leading outside: apply refuses before taking the run lock there', async () => {
    const dir = await tempDir('vidbuild-locklink-');
    const outside = await tempDir('vidbuild-locklink-outside-');
    await writeFile(path.join(dir, 'videos.yaml'), MANIFEST);
    await symlink(outside, path.join(dir, '.vidbuild'));
    const r = vidbuild(dir, 'apply', '--backend', 'emulator', '--yes');
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `.vidbuild is a symlink leading outside the project (to ${outside}); vidbuild reads and writes only inside the manifest's folder: replace it with a folder\n`,
    });
    expect(await readdir(outside)).toEqual([]);
    expect(await readdir(dir)).toEqual(['.vidbuild', 'videos.yaml']);
  });

  it('leading to a file inside the project: apply writes the lock through it and keeps the link; plan reads it', async () => {
    const dir = await tempDir('vidbuild-locklink-');
    await writeFile(path.join(dir, 'videos.yaml'), MANIFEST);
    await mkdir(path.join(dir, 'state'));
    await writeFile(path.join(dir, 'state/videos.lock'), EMPTY_LOCK);
    await symlink('state/videos.lock', path.join(dir, 'videos.lock'));
    const r = vidbuild(dir, 'apply', '--backend', 'emulator', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(await readlink(path.join(dir, 'videos.lock'))).toBe('state/videos.lock');
    expect(JSON.parse(await readFile(path.join(dir, 'state/videos.lock'), 'utf8')).videos.a.job).toMatchObject({ state: 'job' });
    const again = vidbuild(dir, 'plan', '--detailed-exitcode');
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: '' });
  });
});
