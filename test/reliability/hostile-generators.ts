import fc from 'fast-check';

/**
 * Generators for the hostile-input campaign: well-formed lockfiles and
 * manifests as plain JSON (so they can be broken freely), and a structural
 * mutator that damages a JSON value at positions chosen by fast-check.
 */

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const name = fc.stringMatching(/^[a-z][a-z0-9_-]{0,11}$/);
const time = fc.constantFrom('2025-01-01T00:00:00.000Z', '2026-03-04T05:06:07.890Z');
const model = fc.constantFrom('sora-2', 'sora-2-pro');
const size = fc.constantFrom('720x1280', '1280x720', '1024x1792', '1792x1024');
const seconds = fc.constantFrom(4, 8, 12);
const kind = fc.constantFrom('generate', 'remix', 'edit', 'extend');
const relPath = fc.array(name, { minLength: 1, maxLength: 3 }).map((segs) => `${segs.join('/')}.mp4`);

const request = fc.record({ kind, prompt: fc.string({ maxLength: 40 }), model, size, seconds });
const job = fc.oneof(
  fc.record({ state: fc.constant('intent'), intentAt: time, request }),
  fc.record({
    state: fc.constant('job'),
    jobId: fc.stringMatching(/^video_[a-z0-9]{4,12}$/),
    status: fc.constantFrom('queued', 'in_progress', 'completed', 'failed', 'expired'),
    request,
    createdAt: time,
  }),
);
const asset = fc.record({ path: relPath, bytes: fc.nat(), sha256: hex64 });
const target = fc.record({
  kind,
  fingerprint: hex64.map((h) => `sha256:${h}`),
  model,
  size,
  seconds,
  job,
  assets: fc.record({ video: asset, thumbnail: asset }, { requiredKeys: ['video'] }),
  updatedAt: time,
});
const character = fc.record({
  fileSha256: hex64,
  video: relPath,
  job: fc.oneof(
    fc.record({ state: fc.constant('intent'), intentAt: time }),
    fc.record({ state: fc.constant('created'), characterId: fc.stringMatching(/^char_[a-z0-9]{4,8}$/), createdAt: time }),
  ),
});

/** A lockfile the reader must accept. */
export function arbitraryLockfile(): fc.Arbitrary<JsonObject> {
  return fc.record({
    lockfileVersion: fc.constant(1),
    characters: fc.dictionary(name, character, { maxKeys: 2 }),
    videos: fc.dictionary(name, target, { maxKeys: 5 }),
  });
}

/** Values a mutation may plant: the nasty ones first. */
const NASTY: readonly JsonValue[] = [
  null,
  true,
  -1,
  1e308,
  0.5,
  '',
  '..',
  '../../etc/passwd',
  '/etc/passwd',
  'C:\\Windows\\win.ini',
  'a\u0000b',
  '\ufeff',
  '__proto__',
  'constructor',
  [],
  {},
  parseJsonObject('{"__proto__":{"polluted":1}}'),
  'x'.repeat(5000),
];

/**
 * Applies one damaging edit per entry of `choices` (each a number fast-check
 * picked): replace a node with a nasty value, delete a key, add a key, or
 * rename a key to something hostile.
 */
export function mutateJson(value: JsonValue, choices: readonly number[]): JsonValue {
  let current = value;
  for (const c of choices) current = mutateOnce(current, c);
  return current;
}

function nodes(v: JsonValue, out: JsonValue[] = []): JsonValue[] {
  out.push(v);
  if (Array.isArray(v)) for (const x of v) nodes(x, out);
  else if (isObject(v)) for (const x of Object.values(v)) nodes(x, out);
  return out;
}

function isObject(v: JsonValue): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function mutateOnce(root: JsonValue, choice: number): JsonValue {
  const all = nodes(root);
  const target = all[choice % all.length];
  const op = Math.floor(choice / all.length) % 4;
  const nasty = NASTY[choice % NASTY.length] ?? null;
  const rebuild = (v: JsonValue): JsonValue => {
    if (v === target) {
      if (op === 0 || !isObject(v)) return nasty;
      const keys = Object.keys(v);
      const key = keys[choice % Math.max(1, keys.length)];
      if (op === 1 && key !== undefined) return Object.fromEntries(Object.entries(v).filter(([k]) => k !== key));
      if (op === 2) return { ...v, [typeof nasty === 'string' ? nasty : 'extra']: nasty };
      if (key !== undefined) {
        const renamed = typeof nasty === 'string' ? nasty : `${key}_`;
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k === key ? renamed : k, x]));
      }
      return nasty;
    }
    if (Array.isArray(v)) return v.map(rebuild);
    if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rebuild(x)]));
    return v;
  };
  return rebuild(root);
}

function parseJsonObject(text: string): JsonObject {
  const v: unknown = JSON.parse(text);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'number' ? x : null]));
}
