import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apply, emulator, posts, readLock, tempProject, vidbuild } from '../apply/rig.js';

/**
 * Issue 13 item 5: vidbuild replaces only files it wrote. A restore from the
 * cache or a download onto a file the lock does not record there is refused
 * (nothing written, the user's bytes intact); `--force` moves it aside.
 */
const ONE = (extra = ''): string => `version: 1\noutDir: out\ndefaults: { model: sora-2, size: 720x1280, seconds: 4 }\n${extra}videos:\n  a: { prompt: A field at dawn. }\n`;
const MINE = 'my own edit of the clip, not vidbuild output';

describe("the user's files where an output goes", () => {
  it('outDir moved onto a folder holding the user\'s a.mp4: the restore is refused and the file kept; --force moves it aside', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': ONE(), 'mine/a.mp4': MINE });
    expect((await apply(dir, emu)).code).toBe(0);
    await fsp.writeFile(path.join(dir, 'videos.yaml'), ONE().replace('outDir: out', 'outDir: mine'));
    const before = posts(emu);
    const r = await apply(dir, emu);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✗ a: failed');
    expect(r.stdout).toContain("output-not-ours: mine/a.mp4 is already there and is not a file vidbuild wrote (the lock records no such output); nothing was written: move it away, or run `vidbuild apply --force` to move it aside");
    expect(await fsp.readFile(path.join(dir, 'mine', 'a.mp4'), 'utf8')).toBe(MINE);
    expect(posts(emu)).toBe(before);

    const forced = await apply(dir, emu, ['--force']);
    expect(forced.code, forced.stdout).toBe(0);
    const names = await fsp.readdir(path.join(dir, 'mine'));
    const aside = names.find((n) => n.startsWith('a.moved-'));
    expect(aside).toBeDefined();
    expect(await fsp.readFile(path.join(dir, 'mine', aside ?? ''), 'utf8')).toBe(MINE);
    expect((await readLock(dir)).videos['a']?.assets.video?.path).toBe('mine/a.mp4');
    expect(posts(emu)).toBe(before);
  });

  it('a new target with the inputs of a cached job, whose output path holds a user file: refused, nothing written', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': ONE() });
    expect((await apply(dir, emu)).code).toBe(0);
    // `b` has a's inputs (restorable from the cache for $0), and out/b.mp4 is the user's.
    await fsp.writeFile(path.join(dir, 'videos.yaml'), `${ONE()}  b: { prompt: A field at dawn. }\n`);
    await fsp.writeFile(path.join(dir, 'out', 'b.mp4'), MINE);
    const r = await apply(dir, emu);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ b: failed .*output-not-ours: out\/b\.mp4 is already there and is not a file vidbuild wrote/);
    expect(await fsp.readFile(path.join(dir, 'out', 'b.mp4'), 'utf8')).toBe(MINE);
    expect((await readLock(dir)).videos['b']).toBeUndefined();
  });

  it('a renamed target whose new output path holds a user file: refused; the old output is untouched', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': ONE() });
    expect((await apply(dir, emu)).code).toBe(0);
    const old = await fsp.readFile(path.join(dir, 'out', 'a.mp4'));
    await fsp.writeFile(path.join(dir, 'videos.yaml'), ONE().replace('  a:', '  intro:'));
    await fsp.writeFile(path.join(dir, 'out', 'intro.mp4'), MINE);
    const r = await apply(dir, emu);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('output-not-ours: out/intro.mp4 is already there');
    expect(await fsp.readFile(path.join(dir, 'out', 'intro.mp4'), 'utf8')).toBe(MINE);
    expect(await fsp.readFile(path.join(dir, 'out', 'a.mp4'))).toEqual(old);
  });

  it('an edit.file that is another target\'s output through an in-project symlink is refused at validate', async () => {
    const dir = await tempProject({
      'videos.yaml': 'version: 1\noutDir: out\nvideos:\n  a: { prompt: A field. }\n  b: { prompt: Make it rain., edit: { file: clips/a.mp4 } }\n',
    });
    await fsp.mkdir(path.join(dir, 'out'));
    await fsp.writeFile(path.join(dir, 'out', 'a.mp4'), 'x');
    await fsp.symlink('out', path.join(dir, 'clips'));
    const r = await vidbuild(['validate'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('edit.file clips/a.mp4 is the output of target `a` (through a symlink)');
  });
});
