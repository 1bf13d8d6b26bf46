import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { serializeLockfile } from '../../src/lock/write-lockfile.js';
import type { Lockfile } from '../../src/lock/lockfile.js';

/** What serializeLockfile must produce, byte for byte: the plain sorted-keys JSON it replaced. */
function reference(value: unknown): string {
  const sortKeys = (_key: string, v: unknown): unknown => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = Reflect.get(v, k);
    return sorted;
  };
  return `${JSON.stringify(value, sortKeys, 2)}\n`;
}

// Keys that JSON and JS objects treat specially: integer-like ones (enumerated
// first, in numeric order), quotes, unicode, the empty string.
const key = fc.oneof(fc.constantFrom('10', '9', '0', '', 'a"b', 'é', 'videos', 'job'), fc.string({ maxLength: 6 }));
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 8 }),
    fc.constant(undefined),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const entries = fc.dictionary(key, fc.oneof(fc.dictionary(key, json, { maxKeys: 5 }), json), { maxKeys: 6 });
const lockLike = fc.record({ lockfileVersion: fc.constant(1), videos: entries, characters: entries }, { requiredKeys: ['lockfileVersion'] });

describe('serializeLockfile', () => {
  it('gives exactly the bytes of sorted-keys JSON.stringify, for any lock-shaped value', () => {
    fc.assert(
      fc.property(lockLike, (lock) => {
        expect(serializeLockfile(lock as unknown as Lockfile)).toBe(reference(lock));
      }),
      { numRuns: 500 },
    );
  });

  it('reuses the text of an entry only while it is the same object', () => {
    const intro = { kind: 'generate', fingerprint: 'sha256:a', updatedAt: 't1' };
    const night = { kind: 'remix', fingerprint: 'sha256:b', updatedAt: 't1' };
    const first = { lockfileVersion: 1, characters: {}, videos: { night, intro } };
    expect(serializeLockfile(first as unknown as Lockfile)).toBe(reference(first));
    // A change makes a new entry object (the lock is immutable); the other keeps its text.
    const second = { ...first, videos: { ...first.videos, intro: { ...intro, updatedAt: 't2' } } };
    const text = serializeLockfile(second as unknown as Lockfile);
    expect(text).toBe(reference(second));
    expect(text).toContain('"updatedAt": "t2"');
    const gone = { ...second, videos: { intro: second.videos.intro } };
    expect(serializeLockfile(gone as unknown as Lockfile)).toBe(reference(gone));
  });
});
