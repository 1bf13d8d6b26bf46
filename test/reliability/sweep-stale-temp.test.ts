import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isStaleTempName, sweepStaleTempFiles } from '../../src/lock/sweep-stale-temp.js';
import { tempDir } from './run-cli.js';

/**
 * The crash campaign found temp files left by kill -9 mid-write (lockfile,
 * downloads, cache objects and index, restores). The sweep that removes them
 * must match exactly vidbuild's own temp names and stay inside the project.
 */
describe('sweeping temp files left by a killed run', () => {
  it.each([
    'videos.lock.3243596813',
    '.d3.mp4.9efe0764.tmp',
    '.g0.thumbnail.webp.00d0ee5f.tmp',
    'd0.mp4.31171.2c4a0597.tmp',
    'e8f3abb6d7c4225bdc591225ab05abba773570eae534703b030e9c4e67a773da.31690.c84fde8b.tmp',
    'daf7250b472b7144a3a9c56ec99ea95b72bbb46284ca6335ec187f5210e7353c.json.2371022611',
    'run.lock.4242.0a1b2c3d.tmp',
    // The crash soak in CI found these two after a kill -9 in the right millisecond.
    'hash-cache.json.3726914608',
    'run.lock.stale.13535.dcbd7ed4',
    `${'a'.repeat(64)}-mascot.json.2371022611`,
  ])('%s is a vidbuild temp name', (name) => expect(isStaleTempName(name)).toBe(true));

  it.each(['videos.lock', 'videos.yaml', 'intro.mp4', '.gitignore', 'notes.tmp', 'videos.lock.bak', 'a.mp4.tmp', '.hidden.tmp', 'x.json.orig', 'hash-cache.json', 'run.lock', 'run.lock.stale', `${'a'.repeat(64)}-mascot.json`])(
    '%s is left alone',
    (name) => expect(isStaleTempName(name)).toBe(false),
  );

  it("another manifest's lock (ads.yaml -> ads.lock) has its temps swept under its own name only", () => {
    expect(isStaleTempName('ads.lock.3243596813', 'ads.lock')).toBe(true);
    expect(isStaleTempName('ads.lock.3243596813')).toBe(false);
    expect(isStaleTempName('ads.lock.bak', 'ads.lock')).toBe(false);
    expect(isStaleTempName('yarn.lock.12', 'ads.lock')).toBe(false);
  });

  it('removes them from the project, .vidbuild, the cache and output folders, and nothing outside', async () => {
    const dir = await tempDir('vidbuild-sweep-');
    const outside = await tempDir('vidbuild-sweep-outside-');
    await mkdir(path.join(dir, 'renders'), { recursive: true });
    await mkdir(path.join(dir, '.vidbuild', 'cache', 'objects', 'e8'), { recursive: true });
    await mkdir(path.join(dir, '.vidbuild', 'cache', 'index'), { recursive: true });
    await mkdir(path.join(dir, '.vidbuild', 'cache', 'characters'), { recursive: true });
    const files = [
      'videos.lock.123',
      'renders/.a.mp4.0123abcd.tmp',
      'renders/a.mp4.77.0123abcd.tmp',
      `.vidbuild/cache/objects/e8/${'e'.repeat(64)}.77.0123abcd.tmp`,
      `.vidbuild/cache/index/${'f'.repeat(64)}.json.99`,
      '.vidbuild/hash-cache.json.42',
      '.vidbuild/run.lock.stale.77.0123abcd',
      `.vidbuild/cache/characters/${'c'.repeat(64)}-host.json.7`,
      'renders/a.mp4',
      'videos.lock',
    ];
    for (const f of files) await writeFile(path.join(dir, f), 'x');
    await writeFile(path.join(outside, '.a.mp4.0123abcd.tmp'), 'not ours');
    await symlink(outside, path.join(dir, 'linked'));
    const removed = await sweepStaleTempFiles(dir, ['renders', 'linked']);
    expect([...removed].sort()).toEqual(files.slice(0, 8).sort());
    expect((await readdir(path.join(dir, 'renders'))).sort()).toEqual(['a.mp4']);
    expect(await readdir(outside)).toEqual(['.a.mp4.0123abcd.tmp']);
  });
});
