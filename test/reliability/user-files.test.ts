import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apply, emulator, posts, readLock, sha256File, tempProject, vidbuild } from '../apply/rig.js';

/**
 * Issue 13 item 5: vidbuild replaces only files it wrote. A restore from the
 * cache or a download onto a file the lock does not record there is refused
 * (nothing written, the user's bytes intact); `--force` moves it aside. A
 * target's own output at the path the lock records, with other bytes
 * (truncated, damaged, edited in place), is moved aside as
 * `a.modified-TIME.mp4` and put back, as the plan says.
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

  it('a symlink where a new job\'s output goes: refused before anything is paid, with or without --force; the link and its target untouched', async () => {
    const emu = await emulator();
    const outside = await tempProject({ 'victim.mp4': 'precious' });
    const dir = await tempProject({ 'videos.yaml': 'version: 1\nvideos:\n  a: { prompt: A clip. }\n' });
    await fsp.mkdir(path.join(dir, 'videos'));
    await fsp.symlink(path.join(outside, 'victim.mp4'), path.join(dir, 'videos', 'a.mp4'));
    for (const extra of [[], ['--force']]) {
      const r = await apply(dir, emu, extra);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('a: videos/a.mp4 is a symlink (vidbuild never writes through one), where the new job\'s output goes; nothing was done: move it out of the way');
    }
    expect(posts(emu)).toBe(0);
    expect((await fsp.lstat(path.join(dir, 'videos', 'a.mp4'))).isSymbolicLink()).toBe(true);
    expect(await fsp.readFile(path.join(outside, 'victim.mp4'), 'utf8')).toBe('precious');
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

  it('a corrupted output: the plan says the changed file is kept, apply keeps it aside and restores the recorded bytes from the cache', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': ONE() });
    expect((await apply(dir, emu)).code).toBe(0);
    const file = path.join(dir, 'out', 'a.mp4');
    const good = await fsp.readFile(file);
    const bad = Buffer.from(good);
    bad.write('XXXX', 2000);
    await fsp.writeFile(file, bad);

    const planned = await vidbuild(['plan', '--detailed-exitcode'], dir);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toContain('<= a  fetch  video at out/a.mp4 differs from videos.lock: restore from cache; the changed file is kept as out/a.modified-<time>.mp4');

    const before = posts(emu);
    const r = await apply(dir, emu);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const aside = (await fsp.readdir(path.join(dir, 'out'))).find((n) => /^a\.modified-\d{8}T\d{6}Z\.mp4$/.test(n));
    expect(aside).toBeDefined();
    expect(r.stdout).toContain(`warning: a: out/a.mp4 was changed since vidbuild wrote it: the changed file is kept as out/${aside}`);
    expect(r.stdout).toContain('a: out/a.mp4 (');
    expect(r.stdout).not.toContain('output-not-ours');
    expect(await fsp.readFile(file)).toEqual(good);
    expect(await fsp.readFile(path.join(dir, 'out', aside ?? ''))).toEqual(bad);
    expect(posts(emu)).toBe(before);
    expect((await vidbuild(['plan', '--detailed-exitcode'], dir)).code).toBe(0);
  });

  it('a truncated output with no cache: pull downloads it again and keeps the truncated bytes beside it', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': ONE() });
    expect((await apply(dir, emu)).code).toBe(0);
    const file = path.join(dir, 'out', 'a.mp4');
    const good = await fsp.readFile(file);
    const cut = good.subarray(0, 1000);
    await fsp.writeFile(file, cut);
    await fsp.rm(path.join(dir, '.vidbuild', 'cache'), { recursive: true, force: true });

    const planned = await vidbuild(['plan'], dir);
    expect(planned.stdout).toContain('video at out/a.mp4 differs from videos.lock: download; the changed file is kept as out/a.modified-<time>.mp4');
    const r = await vidbuild(['pull', '--base-url', emu.baseURL], dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/warning: a: out\/a\.mp4 was changed since vidbuild wrote it: the changed file is kept as out\/a\.modified-\d{8}T\d{6}Z\.mp4/);
    expect(await fsp.readFile(file)).toEqual(good);
    const aside = (await fsp.readdir(path.join(dir, 'out'))).filter((n) => n.startsWith('a.modified-'));
    expect(aside).toHaveLength(1);
    expect(await fsp.readFile(path.join(dir, 'out', aside[0] ?? ''))).toEqual(cut);
  });

  it('an output edited in place, then its prompt changed: the plan warns, apply pays once and keeps the edit beside the new output', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': ONE() });
    expect((await apply(dir, emu)).code).toBe(0);
    await fsp.writeFile(path.join(dir, 'out', 'a.mp4'), MINE);
    await fsp.writeFile(path.join(dir, 'videos.yaml'), ONE().replace('A field at dawn.', 'A field at dusk.'));

    const planned = await vidbuild(['plan'], dir);
    expect(planned.stdout).toContain('replace  prompt changed');
    expect(planned.stderr).toContain('a: out/a.mp4 was changed since vidbuild wrote it; apply keeps it as out/a.modified-<time>.mp4 before writing over it');
    const before = posts(emu);
    const r = await apply(dir, emu);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(posts(emu)).toBe(before + 1);
    const aside = (await fsp.readdir(path.join(dir, 'out'))).find((n) => n.startsWith('a.modified-'));
    expect(await fsp.readFile(path.join(dir, 'out', aside ?? ''), 'utf8')).toBe(MINE);
    expect(await sha256File(path.join(dir, 'out', 'a.mp4'))).toBe((await readLock(dir)).videos['a']?.assets.video?.sha256);
  });

  it('import over an output changed since vidbuild wrote it is refused, saying so (not that the lock has no such output)', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': ONE() });
    expect((await apply(dir, emu)).code).toBe(0);
    const jobId = (await readLock(dir)).videos['a']?.job.jobId ?? '';
    await fsp.writeFile(path.join(dir, 'out', 'a.mp4'), MINE);
    const r = await vidbuild(['import', 'a', jobId, '--base-url', emu.baseURL], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('out/a.mp4 is already there and was changed since vidbuild wrote it (the lock records other bytes there); nothing was written: move it away');
    expect(await fsp.readFile(path.join(dir, 'out', 'a.mp4'), 'utf8')).toBe(MINE);
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
