import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emulator, tempProject, vidbuild } from '../apply/rig.js';
import { outputPathInside } from '../../src/execute/output-path.js';
import { tempDir } from './run-cli.js';

/**
 * Issue 13 item 4: every folder vidbuild writes into (.vidbuild and what is
 * under it, outDir and the folders below it) is checked on its real path
 * before anything is created, and refused when it leads outside the project
 * or into .git.
 */
const ONE = 'version: 1\noutDir: renders\ndefaults: { model: sora-2, size: 720x1280, seconds: 4 }\nvideos:\n  a: { prompt: A field. }\n';

async function entries(dir: string): Promise<string[]> {
  return (await fsp.readdir(dir, { recursive: true })).map(String).sort();
}

describe('folders vidbuild writes into', () => {
  for (const sub of ['.vidbuild/cache', '.vidbuild/emulator', '.vidbuild/tmp']) {
    it(`${sub} as a symlink out of the project is refused before anything is written there`, async () => {
      const outside = await tempDir('vidbuild-outside-');
      await fsp.mkdir(path.join(outside, 'x'));
      const dir = await tempProject({ 'videos.yaml': ONE });
      await fsp.mkdir(path.join(dir, '.vidbuild'));
      await fsp.symlink(path.join(outside, 'x'), path.join(dir, sub));
      const emu = await emulator();
      for (const args of [['apply', '--yes', '--base-url', emu.baseURL], ['apply', '--yes', '--backend', 'emulator'], ['plan'], ['status']]) {
        const r = await vidbuild(args, dir);
        expect(r.code, args.join(' ')).toBe(1);
        expect((r.stdout + r.stderr).trim().split('\n'), args.join(' ')).toHaveLength(1);
        expect(r.stderr).toContain(`${sub} is a symlink leading outside the project`);
      }
      expect(await entries(outside)).toEqual(['x']);
    });
  }

  it('an outDir below a symlink out of the project is refused, and no folder is made outside', async () => {
    const outside = await tempDir('vidbuild-outside-');
    const dir = await tempProject({ 'videos.yaml': ONE.replace('outDir: renders', 'outDir: renders/deep/er') });
    await fsp.symlink(outside, path.join(dir, 'renders'));
    const emu = await emulator();
    const r = await vidbuild(['apply', '--yes', '--base-url', emu.baseURL], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('`outDir` renders/deep/er leads outside the project directory through a symlink');
    expect(await entries(outside)).toEqual([]);
  });

  it('an outDir that leads into .git through a symlink is refused at validate', async () => {
    const dir = await tempProject({ 'videos.yaml': ONE, '.git/objects/.keep': '' });
    await fsp.symlink('.git/objects', path.join(dir, 'renders'));
    const r = await vidbuild(['validate'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('`outDir` renders leads into .git through a symlink; vidbuild never writes outputs there');
    expect(await entries(path.join(dir, '.git'))).toEqual(['objects', 'objects/.keep']);
  });

  it('the executor checks an output folder\'s real path before creating it (a link swapped in after validate)', async () => {
    const outside = await tempDir('vidbuild-outside-');
    const dir = await tempProject({ 'videos.yaml': ONE, '.git/.keep': '' });
    await fsp.symlink(outside, path.join(dir, 'renders'));
    await fsp.symlink('.git', path.join(dir, 'gitlink'));
    const out = await outputPathInside(dir, 'renders/deep/er/a.mp4');
    expect(out).toMatchObject({ ok: false, error: { code: 'unsafe-output-path', message: 'output path renders/deep/er/a.mp4 leads outside the project (through a symlink)' } });
    expect(await entries(outside)).toEqual([]);
    const git = await outputPathInside(dir, 'gitlink/hooks/a.mp4');
    expect(git).toMatchObject({ ok: false, error: { message: "output path gitlink/hooks/a.mp4 leads into .git (through a symlink); vidbuild never writes into git's folder" } });
    expect(await entries(path.join(dir, '.git'))).toEqual(['.keep']);
  });
});
