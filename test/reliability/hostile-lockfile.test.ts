import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseLockfile, readLockfile } from '../../src/lock/read-lockfile.js';
import { arbitraryLockfile, mutateJson, type JsonObject } from './hostile-generators.js';

/**
 * Hostile-input campaign, lockfile side: whatever bytes sit in `videos.lock`
 * (random, a valid lock mutated at the JSON level or at the byte level), the
 * reader returns either a lock or one of its own `lock-*` diagnostics with a
 * location. It never throws, never writes, and a lock it accepts names no
 * path outside the project.
 */

const RUNS = 300;

function assertOwnOutcome(r: ReturnType<typeof parseLockfile>): void {
  if (r.ok) {
    for (const entry of Object.values(r.value.videos)) {
      for (const asset of Object.values(entry.assets)) if (asset !== undefined) expectInside(asset.path);
    }
    for (const c of Object.values(r.value.characters)) expectInside(c.video);
    return;
  }
  expect(r.error.code).toMatch(/^lock-/);
  expect(r.error.severity).toBe('error');
  expect(r.error.message.length).toBeGreaterThan(0);
  expect(r.error.message).not.toContain('\n');
}

function expectInside(p: string): void {
  expect(p.startsWith('/')).toBe(false);
  expect(p.includes('\\')).toBe(false);
  expect(p.includes('\0')).toBe(false);
  expect(/^[A-Za-z]:/.test(p)).toBe(false);
  expect(path.posix.normalize(p).split('/')).not.toContain('..');
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-hostile-lock-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

describe('hostile lockfiles', () => {
  it('accepts the locks it generates itself (sanity check of the generator)', () => {
    fc.assert(
      fc.property(arbitraryLockfile(), (lock) => {
        const r = parseLockfile(Buffer.from(serializeLockfile(lock)), 'videos.lock');
        expect(r.ok).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('random bytes: only its own diagnostics, never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        assertOwnOutcome(parseLockfile(bytes, 'videos.lock'));
      }),
      { numRuns: RUNS },
    );
  });

  it('random JSON values: only its own diagnostics', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        assertOwnOutcome(parseLockfile(Buffer.from(JSON.stringify(value) ?? 'null'), 'videos.lock'));
      }),
      { numRuns: RUNS },
    );
  });

  it('valid locks mutated structurally: own diagnostics, and an accepted lock never escapes', () => {
    fc.assert(
      fc.property(arbitraryLockfile(), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), (lock, choices) => {
        const mutated = mutateJson(lock, choices);
        assertOwnOutcome(parseLockfile(Buffer.from(JSON.stringify(mutated, null, 2)), 'videos.lock'));
      }),
      { numRuns: RUNS },
    );
  });

  it('valid locks mutated byte by byte (truncation, flips, insertions)', () => {
    fc.assert(
      fc.property(
        arbitraryLockfile(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'insert', 'delete', 'truncate')), {
          minLength: 1,
          maxLength: 8,
        }),
        (lock, edits) => {
          let bytes = Buffer.from(serializeLockfile(lock));
          for (const [at, byte, op] of edits) {
            const i = bytes.length === 0 ? 0 : at % bytes.length;
            if (op === 'flip') bytes[i] = byte;
            else if (op === 'insert') bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]);
            else if (op === 'delete') bytes = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]);
            else bytes = bytes.subarray(0, i);
          }
          assertOwnOutcome(parseLockfile(bytes, 'videos.lock'));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('reading from disk writes nothing, whatever the content', async () => {
    const dir = await tempDir();
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 512 }), arbitraryLockfile().map((l) => Buffer.from(serializeLockfile(l)))), async (bytes) => {
        await writeFile(path.join(dir, 'videos.lock'), bytes);
        const before = await listTree(dir);
        const r = await readLockfile(dir);
        assertOwnOutcome(r);
        expect(await listTree(dir)).toEqual(before);
      }),
      { numRuns: 60 },
    );
  });

  describe('hand-written cases', () => {
    const base = (): JsonObject => ({
      lockfileVersion: 1,
      characters: {},
      videos: {
        intro: {
          kind: 'generate',
          fingerprint: `sha256:${'a'.repeat(64)}`,
          model: 'sora-2',
          size: '720x1280',
          seconds: 4,
          job: {
            state: 'job',
            jobId: 'video_1',
            status: 'completed',
            request: { kind: 'generate', prompt: 'p', model: 'sora-2', size: '720x1280', seconds: 4 },
            createdAt: '2025-01-01T00:00:00.000Z',
          },
          assets: { video: { path: 'videos/intro.mp4', bytes: 10, sha256: 'b'.repeat(64) } },
          updatedAt: '2025-01-01T00:00:00.000Z',
        },
      },
    });
    const withAssetPath = (p: string): string => {
      const text = serializeLockfile(base());
      return text.replace('"videos/intro.mp4"', JSON.stringify(p));
    };

    it.each([
      { name: 'parent escape', p: '../outside.mp4' },
      { name: 'nested parent escape', p: 'videos/../../outside.mp4' },
      { name: 'absolute', p: '/etc/passwd' },
      { name: 'home', p: '/root/.ssh/id_rsa' },
      { name: 'windows drive', p: 'C:\\Windows\\win.ini' },
      { name: 'windows drive forward', p: 'C:/Windows/win.ini' },
      { name: 'backslash escape', p: '..\\..\\outside.mp4' },
      { name: 'UNC', p: '\\\\server\\share\\x.mp4' },
      { name: 'NUL byte', p: 'videos/intro.mp4\u0000.txt' },
    ])('a lock tampered to point an output outside ($name) is refused with its location', ({ p }) => {
      const r = parseLockfile(Buffer.from(withAssetPath(p)), 'videos.lock');
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error.code).toMatch(/^lock-(path-escape|invalid)$/);
      expect(r.error.location?.line).toBeGreaterThan(1);
    });

    it('a lock whose character video points outside is refused', () => {
      const lock = {
        ...base(),
        characters: { mascot: { fileSha256: 'c'.repeat(64), video: '../../etc/shadow', job: { state: 'intent', intentAt: 'x' } } },
      };
      const r = parseLockfile(Buffer.from(JSON.stringify(lock)), 'videos.lock');
      expect(r.ok ? 'accepted' : r.error.code).toBe('lock-path-escape');
    });

    it.each([
      { name: 'target name ..', n: '..' },
      { name: 'target name with slash', n: 'a/b' },
      { name: 'target name with backslash', n: 'a\\b' },
      { name: 'target name with NUL', n: 'a\u0000b' },
      { name: 'target name with newline', n: 'a\nb' },
    ])('a lock naming a target $name is refused', ({ n }) => {
      const text = serializeLockfile(base()).replace('"intro"', JSON.stringify(n));
      const r = parseLockfile(Buffer.from(text), 'videos.lock');
      expect(r.ok).toBe(false);
    });

    it('BOM, CRLF and a truncated lock', () => {
      const text = serializeLockfile(base());
      assertOwnOutcome(parseLockfile(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), 'videos.lock'));
      expect(parseLockfile(Buffer.from(text.replace(/\n/g, '\r\n')), 'videos.lock').ok).toBe(true);
      for (const cut of [1, 10, Math.floor(text.length / 2), text.length - 3]) {
        const r = parseLockfile(Buffer.from(text.slice(0, cut)), 'videos.lock');
        expect(r.ok ? 'accepted' : r.error.code).toBe('lock-corrupt');
      }
      expect(parseLockfile(Buffer.alloc(0), 'videos.lock').ok).toBe(false);
      expect(parseLockfile(Buffer.from([0xff, 0xfe, 0, 0]), 'videos.lock').ok).toBe(false);
    });

    it('deep nesting and a huge string stay its own diagnostics (no stack overflow)', () => {
      const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
      assertOwnOutcome(parseLockfile(Buffer.from(deep), 'videos.lock'));
      const deepObj = `{"lockfileVersion":1,"characters":{},"videos":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`;
      assertOwnOutcome(parseLockfile(Buffer.from(deepObj), 'videos.lock'));
      const huge = serializeLockfile(base()).replace('"p"', JSON.stringify('x'.repeat(10 * 1024 * 1024)));
      assertOwnOutcome(parseLockfile(Buffer.from(huge), 'videos.lock'));
    });

    it('a lock path that is a directory, a FIFO-like target or a symlink out is an error value, not a throw', async () => {
      const dir = await tempDir();
      await mkdir(path.join(dir, 'videos.lock'));
      const r1 = await readLockfile(dir);
      expect(r1.ok ? 'accepted' : r1.error.code).toBe('lock-unreadable');
      const dir2 = await tempDir();
      const outside = await tempDir();
      await writeFile(path.join(outside, 'secret.lock'), serializeLockfile(base()));
      await symlink(path.join(outside, 'secret.lock'), path.join(dir2, 'videos.lock'));
      const r2 = await readLockfile(dir2);
      // Reading a symlinked lock is tolerated (git can check one out) but it must still be a valid lock.
      assertOwnOutcome(r2);
    });
  });
});

/** Lockfile-shaped JSON as the writer lays it out: sorted keys, 2 spaces, trailing newline. */
function serializeLockfile(value: JsonObject): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v), 2)}\n`;
}
