import { describe, expect, it, onTestFinished } from 'vitest';
import { mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readLockfile } from '../../src/lock/read-lockfile.js';
import { serializeLockfile, writeLockfile } from '../../src/lock/write-lockfile.js';
import { emptyLockfile, type Lockfile } from '../../src/lock/lockfile.js';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { buildManifest } from '../plan/build-manifest.js';
import { simulateApply } from '../plan/simulate-apply.js';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-lock-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const manifest = buildManifest(
  [
    { name: 'intro', seconds: 8, input: 'refs/a.png', assets: ['video', 'thumbnail'], characters: ['mascot'] },
    { name: 'night', kind: 'remix', source: 'intro' },
  ],
  { mascot: 'refs/m.mp4' },
);
const { lock } = simulateApply(manifest, { 'refs/a.png': 'a', 'refs/m.mp4': 'm' });

describe('lockfile read/write', () => {
  it('round-trips and reads a missing lock as empty', async () => {
    const dir = await tempDir();
    expect(await readLockfile(dir)).toEqual({ ok: true, value: emptyLockfile() });
    await writeLockfile(path.join(dir, 'videos.lock'), lock);
    expect(await readLockfile(dir)).toEqual({ ok: true, value: lock });
    expect(await readLockfile(path.join(dir, 'videos.yaml'))).toEqual({ ok: true, value: lock });
  });

  it('is deterministic: sorted keys at every level, 2-space indent, trailing newline', () => {
    const shuffled: Lockfile = { videos: Object.fromEntries(Object.entries(lock.videos).reverse()), characters: lock.characters, lockfileVersion: 1 };
    const text = serializeLockfile(shuffled);
    expect(text).toBe(serializeLockfile(lock));
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')[1]).toBe('  "characters": {');
    const keys = [...text.matchAll(/^ {4}"([^"]+)": \{$/gm)].map((m) => m[1]);
    expect(keys).toEqual(['mascot', 'intro', 'night']);
  });

  it.each([
    { name: 'truncated', mutate: (t: string) => t.slice(0, 120), code: 'lock-corrupt', msg: /not valid JSON: .*truncated/ },
    { name: 'garbage', mutate: () => '{\n  "lockfileVersion": 1,\n  oops\n}\n', code: 'lock-corrupt', at: '3:3', msg: /expected a property name/ },
    { name: 'empty', mutate: () => '', code: 'lock-corrupt', at: '1:1', msg: /empty/ },
    { name: 'binary', mutate: () => '\u0000\u00ff', code: 'lock-corrupt', msg: /not valid JSON/ },
    { name: 'newer version', mutate: (t: string) => t.replace('"lockfileVersion": 1', '"lockfileVersion": 2'), code: 'lock-version', msg: /newer vidbuild/ },
    { name: 'schema violation', mutate: (t: string) => t.replace('"bytes": 100', '"bytes": "many"'), code: 'lock-invalid', msg: /bytes must be integer/ },
    { name: 'unknown job state', mutate: (t: string) => t.replace('"state": "job"', '"state": 7'), code: 'lock-invalid', msg: /\/job\/state must be "intent" or "job" \(got 7\)/ },
    { name: 'malformed sha256', mutate: (t: string) => t.replace(/"sha256": "[0-9a-f]{64}"/, '"sha256": "zz"'), code: 'lock-invalid', msg: /sha256 is not in the form vidbuild writes \(got "zz"\)/ },
    { name: 'unknown key', mutate: (t: string) => t.replace('"kind": "remix"', '"kind": "remix", "surprise": 1'), code: 'lock-invalid', msg: /surprise/ },
    { name: 'escaping asset path', mutate: (t: string) => t.replace('"path": "videos/night.mp4"', '"path": "../../etc/night.mp4"'), code: 'lock-path-escape', msg: /\.\.\/\.\.\/etc\/night\.mp4 points outside the project/ },
    { name: 'absolute asset path', mutate: (t: string) => t.replace('"path": "videos/night.mp4"', '"path": "/tmp/night.mp4"'), code: 'lock-path-escape', msg: /outside the project/ },
  ])('refuses a $name lock with file:line:col and never overwrites it', async ({ mutate, code, at, msg }) => {
    const dir = await tempDir();
    const lockPath = path.join(dir, 'videos.lock');
    const text = mutate(serializeLockfile(lock));
    await writeFile(lockPath, text);
    const r = await readLockfile(lockPath);
    if (r.ok) throw new Error('expected an error');
    expect(r.error.code).toBe(code);
    expect(r.error.message).toMatch(msg);
    expect(r.error.location).toBeDefined();
    expect(r.error.location?.file).toMatch(/videos\.lock$/);
    if (at !== undefined) expect(`${r.error.location?.line}:${r.error.location?.col}`).toBe(at);
    if (code !== 'lock-version') expect(r.error.message).toContain('never overwrites');
    expect(formatDiagnostic(r.error)).toMatch(/videos\.lock:\d+:\d+: /);
    expect(await readFile(lockPath, 'utf8')).toBe(text);
  });

  it('points a schema error at the offending key', async () => {
    const dir = await tempDir();
    const text = serializeLockfile(lock).replace('"bytes": 100', '"bytes": -5');
    await writeFile(path.join(dir, 'videos.lock'), text);
    const r = await readLockfile(dir);
    if (r.ok) throw new Error('expected an error');
    const lineNo = text.split('\n').findIndex((l) => l.includes('"bytes": -5')) + 1;
    expect(r.error.location?.line).toBe(lineNo);
    expect(r.error.location?.col).toBe(text.split('\n')[lineNo - 1]!.indexOf('"bytes"') + 1);
  });

  it('writes a lock that is a symlink only where it leads inside the project, never outside', async () => {
    const dir = await tempDir();
    const outside = await tempDir();
    await writeFile(path.join(outside, 'their.lock'), 'theirs');
    await symlink(path.join(outside, 'their.lock'), path.join(dir, 'videos.lock'));
    // A link swapped in after readLockfile checked it: the write checks again.
    await expect(writeLockfile(path.join(dir, 'videos.lock'), emptyLockfile())).rejects.toThrow(/videos\.lock is a symlink leading outside the project/);
    expect(await readFile(path.join(outside, 'their.lock'), 'utf8')).toBe('theirs');
    expect(await readdir(outside)).toEqual(['their.lock']);

    const inside = await tempDir();
    await writeFile(path.join(inside, 'real.lock'), serializeLockfile(emptyLockfile()));
    await symlink('real.lock', path.join(inside, 'videos.lock'));
    const lock: Lockfile = { ...emptyLockfile(), characters: {} };
    await writeLockfile(path.join(inside, 'videos.lock'), lock);
    expect(await readFile(path.join(inside, 'real.lock'), 'utf8')).toBe(serializeLockfile(lock));
    const read = await readLockfile(inside);
    expect(read.ok).toBe(true);
  });
});
