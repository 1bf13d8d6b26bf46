import { describe, expect, it } from 'vitest';
import type { Target } from '../../src/manifest/manifest.js';
import type { CharacterId, Fingerprint, JobId } from '../../src/lock/lockfile.js';
import { fingerprintDocument, fingerprintTarget, fingerprintValue, type FingerprintInputs } from '../../src/plan/fingerprint.js';
import { canonicalJson } from '../../src/plan/canonical-json.js';
import { buildManifest, pp } from './build-manifest.js';
import { sha } from './simulate-apply.js';

function target(spec: Parameters<typeof buildManifest>[0][number], name = spec.name): Target {
  const m = buildManifest([{ name: 'src' }, spec]);
  const t = [...m.targets.values()].find((x) => x.name === name);
  if (t === undefined) throw new Error(name);
  return t;
}

const gen = target({ name: 'a', prompt: 'dawn', seconds: 8, input: 'refs/a.png' });
const inputs: FingerprintInputs = { files: [sha('png')], characters: [] };
const fp = fingerprintTarget(gen, inputs);

describe('fingerprintTarget', () => {
  it('is sha256: plus 64 hex', () => {
    expect(fp).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('is stable across key order and ignores outputs, assets, name and location', () => {
    // Same values, keys in another order, other outputs/assets/location: same fingerprint.
    const reordered: Target = {
      location: { file: 'other.yaml', line: 40, col: 3 },
      outputs: { video: pp('renders/x.mp4'), thumbnail: pp('renders/x.webp') },
      assets: ['video', 'thumbnail'],
      inputReference: { type: 'file', path: pp('refs/elsewhere.png') },
      characters: [],
      seconds: 8,
      size: gen.size,
      model: gen.model,
      prompt: 'dawn',
      kind: 'generate',
      name: gen.name,
    };
    expect(fingerprintTarget(reordered, { characters: [], files: [sha('png')] })).toBe(fp);
  });

  it('treats characters as a set: reordering the list in the manifest does not replace the video', () => {
    const two = target({ name: 'a', prompt: 'ann and bo', characters: ['ann', 'bo'] });
    const swapped = target({ name: 'a', prompt: 'ann and bo', characters: ['bo', 'ann'] });
    const ann = { id: 'char_ann' as CharacterId };
    const bo = { fileSha256: sha('bo.mp4') };
    const a = fingerprintTarget(two, { files: [], characters: [ann, bo] });
    expect(fingerprintTarget(swapped, { files: [], characters: [bo, ann] })).toBe(a);
    expect(fingerprintDocument(swapped, { files: [], characters: [bo, ann] })).toBe(canonicalJson(fingerprintValue(two, { files: [], characters: [ann, bo] })));
    expect(fingerprintTarget(two, { files: [], characters: [ann] })).not.toBe(a);
  });

  it.each<[string, () => Fingerprint]>([
    ['prompt', () => fingerprintTarget({ ...gen, prompt: 'dusk' }, inputs)],
    ['prompt whitespace', () => fingerprintTarget({ ...gen, prompt: 'dawn ' }, inputs)],
    ['model', () => fingerprintTarget({ ...gen, model: 'sora-2-pro' }, inputs)],
    ['size', () => fingerprintTarget({ ...gen, size: '1280x720' }, inputs)],
    ['seconds', () => fingerprintTarget({ ...gen, seconds: 4 }, inputs)],
    ['file content', () => fingerprintTarget(gen, { ...inputs, files: [sha('other png')] })],
    ['no file', () => fingerprintTarget(gen, { ...inputs, files: [] })],
    ['character id', () => fingerprintTarget(gen, { ...inputs, characters: [{ id: 'char_1' as CharacterId }] })],
    ['character file', () => fingerprintTarget(gen, { ...inputs, characters: [{ fileSha256: sha('m') }] })],
  ])('changes with %s', (_label, make) => {
    expect(make()).not.toBe(fp);
  });

  it('derived targets hash the source identity: job id, or the source fingerprint before it has one', () => {
    const remix = target({ name: 'r', kind: 'remix', source: 'src' });
    const byJob = fingerprintTarget(remix, { files: [], characters: [], source: { jobId: 'video_1' as JobId } });
    expect(fingerprintTarget(remix, { files: [], characters: [], source: { jobId: 'video_2' as JobId } })).not.toBe(byJob);
    expect(fingerprintTarget(remix, { files: [], characters: [], source: { fingerprint: fp } })).not.toBe(byJob);
    expect(fingerprintTarget(remix, { files: [], characters: [], source: { jobId: 'video_1' as JobId } })).toBe(byJob);
  });

  it('distinguishes kinds and hashes an extension by the seconds it adds', () => {
    const ext4 = target({ name: 'e', kind: 'extend', source: 'src', add: 4 });
    const ext8 = target({ name: 'e', kind: 'extend', source: 'src', add: 8 });
    const edit = target({ name: 'e', kind: 'edit', source: 'src' });
    const src = { files: [], characters: [], source: { jobId: 'video_1' as JobId } };
    const a = fingerprintTarget(ext4, src);
    expect(fingerprintTarget(ext8, src)).not.toBe(a);
    expect(fingerprintTarget(edit, src)).not.toBe(a);
    // The stitched total is not what is requested: only addSeconds counts.
    expect(fingerprintTarget({ ...ext4, seconds: 99 }, src)).toBe(a);
  });
});

describe('fingerprintDocument', () => {
  it('is exactly the canonical JSON of the fingerprint value', () => {
    const remix = target({ name: 'r', kind: 'remix', source: 'src' });
    const cases: [Target, FingerprintInputs][] = [
      [gen, inputs],
      [{ ...gen, prompt: 'quotes " and \\ and \n and ünï' }, { files: [], characters: [{ id: 'char_1' as CharacterId }, { fileSha256: sha('m') }] }],
      [remix, { files: [], characters: [], source: { jobId: 'video_1' as JobId } }],
      [remix, { files: [], characters: [], source: { fingerprint: fp } }],
    ];
    for (const [t, i] of cases) expect(fingerprintDocument(t, i)).toBe(canonicalJson(fingerprintValue(t, i)));
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });
});
