import { link, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../../src/manifest/load-manifest.js';
import { apply, emulator, listJobs, tempProject, vidbuild } from '../apply/rig.js';

const ONE = 'version: 1\noutDir: one\nvideos:\n  a: { prompt: The first manifest. }\n';
const TWO = 'version: 1\noutDir: two\nvideos:\n  b: { prompt: The second manifest. }\n';

describe('two manifests whose locks would be one file', () => {
  it('are refused by every command before the lock is read, so a prune of one cannot delete the other\'s jobs', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': ONE });
    expect((await apply(dir, emu)).code).toBe(0);
    const lockBefore = await readFile(path.join(dir, 'videos.lock'), 'utf8');
    await writeFile(path.join(dir, 'videos.yml'), TWO);

    for (const args of [['validate'], ['plan'], ['status'], ['prune', '--yes', '--base-url', emu.baseURL]]) {
      for (const file of ['videos.yml', 'videos.yaml']) {
        const r = await vidbuild([...args, '-f', file], dir);
        expect(r.code, `${args.join(' ')} -f ${file}`).toBe(1);
        expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^videos\.ya?ml and videos\.ya?ml in one folder would share videos\.lock.*rename one of them/)]);
      }
    }
    const refused = await apply(dir, emu, ['-f', 'videos.yml']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('would share videos.lock');
    // Nothing was paid, pruned or rewritten.
    expect((await listJobs(emu)).length).toBe(1);
    expect(await readFile(path.join(dir, 'videos.lock'), 'utf8')).toBe(lockBefore);
    expect((await readFile(path.join(dir, 'one', 'a.mp4'))).length).toBeGreaterThan(0);

    // Renamed, each has its own lock.
    await rm(path.join(dir, 'videos.yml'));
    await writeFile(path.join(dir, 'teaser.yml'), TWO);
    expect((await apply(dir, emu, ['-f', 'teaser.yml'])).code).toBe(0);
    expect(await readFile(path.join(dir, 'videos.lock'), 'utf8')).toBe(lockBefore);
  });

  it('is not two manifests when the second name is a link to the first', async () => {
    const dir = await tempProject({ 'videos.yaml': ONE });
    await symlink('videos.yaml', path.join(dir, 'videos.yml'));
    expect((await loadManifest('videos.yml', { cwd: dir })).ok).toBe(true);
    await rm(path.join(dir, 'videos.yml'));
    await link(path.join(dir, 'videos.yaml'), path.join(dir, 'videos.YML'));
    expect((await loadManifest('videos.yaml', { cwd: dir })).ok).toBe(true);
    // A folder or an unrelated file with another stem is no concern.
    await writeFile(path.join(dir, 'ads.yml'), TWO);
    expect((await loadManifest('videos.yaml', { cwd: dir })).ok).toBe(true);
  });
});
