import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { loadManifest } from '../../src/manifest/load-manifest.js';
import type { Manifest, Target } from '../../src/manifest/manifest.js';

const validDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/manifests/valid');
/** A real character video (1280x720, 3 s): validate refuses anything the API would not make a character from. */
const MASCOT = path.join(validDir, 'refs', 'mascot.mp4');

async function loadValid(): Promise<{ manifest: Manifest; warnings: string[] }> {
  const loaded = await loadManifest('videos.yaml', { cwd: validDir });
  if (!loaded.ok) throw new Error(loaded.error.map(formatDiagnostic).join('\n'));
  return { manifest: loaded.value.manifest, warnings: loaded.value.warnings.map(formatDiagnostic) };
}

function target(m: Manifest, name: string): Target {
  for (const t of m.targets.values()) if (t.name === name) return t;
  throw new Error(`no target ${name}`);
}

async function loadText(text: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-load-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'videos.yaml'), text);
  return loadManifest('videos.yaml', { cwd: dir });
}

describe('loadManifest on a valid manifest', () => {
  it('resolves paths, project dir, provider and concurrency', async () => {
    const { manifest } = await loadValid();
    expect(manifest.file).toBe(path.join(validDir, 'videos.yaml'));
    expect(manifest.projectDir).toBe(validDir);
    expect(manifest.version).toBe(1);
    expect(manifest.outDir).toBe('renders');
    expect(manifest.concurrency).toBe(3);
    expect(manifest.provider).toEqual({ baseURL: 'https://videos.example.com/v1', apiKeyEnv: 'EXAMPLE_API_KEY', apiKeyHeader: undefined, headers: {}, query: {} });
    expect([...manifest.characters.values()]).toEqual([
      { name: 'mascot', video: 'refs/mascot.mp4', location: { file: 'videos.yaml', line: 13, col: 3 } },
    ]);
  });

  it('orders targets so sources come first, otherwise keeping manifest order', async () => {
    const { manifest } = await loadValid();
    expect([...manifest.targets.keys()]).toEqual([
      'intro',
      'intro_night',
      'intro_long',
      'intro_longer',
      'intro_warm',
      'logo_fix',
      'mascot_walk',
      'pro_long',
      'snapshot',
    ]);
  });

  it('applies defaults and computes outputs', async () => {
    const { manifest } = await loadValid();
    expect(target(manifest, 'intro')).toEqual({
      kind: 'generate',
      name: 'intro',
      prompt: 'Wide shot of a lighthouse at dawn, slow dolly in.',
      model: 'sora-2',
      size: '1280x720',
      seconds: 8,
      assets: ['video', 'thumbnail'],
      outputs: { video: 'renders/intro.mp4', thumbnail: 'renders/intro.thumbnail.webp' },
      characters: [],
      location: { file: 'videos.yaml', line: 17, col: 3 },
      inputReference: { type: 'file', path: 'refs/lighthouse.png' },
    });
    const mascot = target(manifest, 'mascot_walk');
    expect(mascot).toMatchObject({ model: 'sora-2', size: '1280x720', seconds: 4, assets: ['video'], characters: ['mascot'] });
    expect(mascot.outputs).toEqual({ video: 'renders/mascot_walk.mp4' });
  });

  it('derived targets inherit model, size and duration from their source', async () => {
    const { manifest } = await loadValid();
    expect(target(manifest, 'intro_night')).toMatchObject({
      kind: 'remix',
      source: { type: 'target', name: 'intro' },
      model: 'sora-2',
      size: '1280x720',
      seconds: 8,
    });
    expect(target(manifest, 'intro_warm')).toMatchObject({
      kind: 'edit',
      source: { type: 'target', name: 'intro' },
      seconds: 8,
      assets: ['video', 'spritesheet'],
      outputs: { video: 'renders/intro_warm.mp4', spritesheet: 'renders/intro_warm.spritesheet.jpg' },
    });
  });

  it('extensions add seconds along the chain', async () => {
    const { manifest } = await loadValid();
    expect(target(manifest, 'intro_long')).toMatchObject({ kind: 'extend', addSeconds: 4, seconds: 12 });
    expect(target(manifest, 'intro_longer')).toMatchObject({
      kind: 'extend',
      source: { type: 'target', name: 'intro_long' },
      addSeconds: 12,
      seconds: 24,
    });
  });

  it('an extension may add 16 or 20 s (videos.extend takes 4-20 s), and a provider may allow more durations', async () => {
    const loaded = await loadText(
      'version: 1\nvideos:\n  a: { prompt: Dawn., seconds: 12 }\n  b: { extend: a, prompt: More., seconds: 20 }\n  c: { extend: b, prompt: More., seconds: "16" }\n',
    );
    if (!loaded.ok) throw new Error(loaded.error.map(formatDiagnostic).join('\n'));
    expect(target(loaded.value.manifest, 'c')).toMatchObject({ kind: 'extend', addSeconds: 16, seconds: 48 });
    const widened = await loadText(
      'version: 1\nprovider: { capabilities: { extension: { seconds: ["10"] } } }\nvideos:\n  a: { prompt: Dawn. }\n  b: { extend: a, prompt: More., seconds: 10 }\n',
    );
    expect(widened.ok).toBe(true);
  });

  it('edits of a local file take their own settings, and the file\'s length from its MP4 index', async () => {
    const { manifest } = await loadValid();
    expect(target(manifest, 'logo_fix')).toMatchObject({
      kind: 'edit',
      source: { type: 'file', path: 'refs/logo.mp4' },
      model: 'sora-2',
      seconds: 2,
    });
  });

  it('an edit or extension of a file is as long as the file says (priced so, limits checked through chains)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-load-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await copyFile(MASCOT, path.join(dir, 'three.mp4')); // 3 s
    await copyFile(path.resolve(validDir, '../invalid/refs/index-only-118s.mp4'), path.join(dir, 'long.mp4'));
    await writeFile(path.join(dir, 'broken.mp4'), 'not an mp4');
    const yaml = [
      'version: 1',
      'defaults: { seconds: 8 }',
      'videos:',
      '  fix: { edit: { file: three.mp4 }, prompt: Fix. }',
      '  said: { edit: { file: three.mp4 }, prompt: Fix., seconds: 12 }',
      '  more: { extend: { file: three.mp4 }, prompt: More., seconds: 4 }',
      '  again: { extend: more, prompt: Again. }',
      '  fix_more: { remix: more, prompt: Warmer. }',
      '',
    ].join('\n');
    await writeFile(path.join(dir, 'videos.yaml'), yaml);
    const loaded = await loadManifest('videos.yaml', { cwd: dir });
    if (!loaded.ok) throw new Error(loaded.error.map(formatDiagnostic).join('\n'));
    const m = loaded.value.manifest;
    expect(target(m, 'fix')).toMatchObject({ seconds: 3 });
    expect(target(m, 'said')).toMatchObject({ seconds: 3 });
    expect(target(m, 'more')).toMatchObject({ seconds: 7, addSeconds: 4 });
    expect(target(m, 'again')).toMatchObject({ seconds: 15, addSeconds: 8 });
    expect(target(m, 'fix_more')).toMatchObject({ seconds: 7 });
    expect(loaded.value.warnings.map(formatDiagnostic)).toEqual([
      'videos.yaml:5:61: warning: an edit keeps the duration of its source three.mp4 (3 s), so `seconds: 12` is ignored; remove it',
    ]);

    const over = [
      'version: 1',
      'videos:',
      '  a: { extend: { file: long.mp4 }, prompt: A., seconds: 4 }',
      '  b: { extend: { file: three.mp4 }, prompt: B., seconds: 20 }',
      '  c: { extend: b, prompt: C., seconds: 20 }',
      '  d: { extend: c, prompt: D., seconds: 20 }',
      '  e: { extend: d, prompt: E., seconds: 20 }',
      '  f: { extend: e, prompt: F., seconds: 20 }',
      '  g: { extend: f, prompt: G., seconds: 20 }',
      '  h: { edit: { file: broken.mp4 }, prompt: H. }',
      '',
    ].join('\n');
    await writeFile(path.join(dir, 'videos.yaml'), over);
    const refused = await loadManifest('videos.yaml', { cwd: dir });
    expect(refused.ok ? [] : refused.error.map(formatDiagnostic)).toEqual([
      'videos.yaml:3:57: extending long.mp4 (118 s) by 4 s makes `a` 122 s long (at most 120 s)',
      'videos.yaml:9:40: extending `f` by 20 s makes `g` 123 s long (at most 120 s)',
      'videos.yaml:10:22: edit.file broken.mp4 is not an MP4 video (the API takes only MP4)',
    ]);
  });

  it('provider capabilities widen the table; dated snapshots use their base model', async () => {
    const { manifest } = await loadValid();
    expect(target(manifest, 'pro_long')).toMatchObject({ model: 'sora-2-pro', size: '1792x1024', seconds: 20 });
    expect(target(manifest, 'snapshot')).toMatchObject({ model: 'sora-2-2025-10-06', size: '1280x720' });
  });

  it('a manifest without provider or warnings loads cleanly', async () => {
    const loaded = await loadText('version: 1\nvideos:\n  a: { prompt: A lighthouse. }\n');
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.value.warnings).toEqual([]);
    expect(loaded.value.manifest.provider).toBeUndefined();
    expect(loaded.value.manifest.outDir).toBe('videos');
    // The shipped defaults (data/capabilities.json).
    expect(target(loaded.value.manifest, 'a')).toMatchObject({ model: 'sora-2', size: '720x1280', seconds: 4, outputs: { video: 'videos/a.mp4' } });
  });

  it('warns (without failing) when the prompt never names a character', async () => {
    const { warnings } = await loadValid();
    expect(warnings).toEqual([]);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-load-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await copyFile(MASCOT, path.join(dir, 'm.mp4'));
    await writeFile(path.join(dir, 'videos.yaml'), 'version: 1\ncharacters:\n  mascot: { video: m.mp4 }\nvideos:\n  a: { prompt: The Mascot waves., characters: [mascot] }\n');
    const loaded = await loadManifest('videos.yaml', { cwd: dir });
    expect(loaded.ok && loaded.value.warnings.map(formatDiagnostic)).toEqual([
      'videos.yaml:5:48: warning: the prompt of `a` never mentions character `mascot` (it says `Mascot`); the API needs the name verbatim in the prompt',
    ]);
  });

  it('takes real character names (any script, inner spaces) and holds the prompt to them verbatim', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-load-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await copyFile(MASCOT, path.join(dir, 'm.mp4'));
    // A name with its accent as a combining mark (as some macOS tools write it); the prompt has it precomposed.
    const nfd = 'Jose\u0301';
    const yaml = [
      'version: 1',
      'characters:',
      '  Señor Gato: { video: m.mp4 }',
      '  "Captain Lu": { video: m.mp4 }',
      "  O'Brien-2: { video: m.mp4 }",
      '  Ли Мин: { video: m.mp4 }',
      `  ${nfd}: { video: m.mp4 }`,
      'videos:',
      '  a: { prompt: Señor Gato meets Captain Lu., characters: [Señor Gato, Captain Lu] }',
      "  b: { prompt: O'Brien-2 and Ли Мин talk., characters: [O'Brien-2, Ли Мин] }",
      `  c: { prompt: Jos\u00e9 naps., characters: [${nfd}] }`,
      '',
    ].join('\n');
    await writeFile(path.join(dir, 'videos.yaml'), yaml);
    const loaded = await loadManifest('videos.yaml', { cwd: dir });
    if (!loaded.ok) throw new Error(loaded.error.map(formatDiagnostic).join('\n'));
    expect([...loaded.value.manifest.characters.keys()]).toEqual(['Señor Gato', 'Captain Lu', "O'Brien-2", 'Ли Мин', nfd]);
    expect(target(loaded.value.manifest, 'a').characters).toEqual(['Señor Gato', 'Captain Lu']);
    expect(loaded.value.warnings.map(formatDiagnostic)).toEqual([
      `videos.yaml:11:41: warning: the prompt of \`c\` never mentions character \`${nfd}\` as written (it is there with its accents encoded differently); the API needs the name verbatim in the prompt`,
    ]);
  });

  it('reports a bad character entry once, not again as unknown at every use', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-load-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await copyFile(MASCOT, path.join(dir, 'm.mp4'));
    const yaml = [
      'version: 1',
      'characters:',
      '  "Captain  Lu": { video: m.mp4 }',
      '  "bad/name": { video: m.mp4 }',
      '  far: { video: ../m.mp4 }',
      'videos:',
      '  a: { prompt: Captain  Lu and far., characters: ["Captain  Lu", far] }',
      '  b: { prompt: bad/name., characters: [bad/name] }',
      '  c: { prompt: x, characters: [mascot] }',
      '',
    ].join('\n');
    await writeFile(path.join(dir, 'videos.yaml'), yaml);
    const loaded = await loadManifest('videos.yaml', { cwd: dir });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.error.map(formatDiagnostic)).toEqual([
      'videos.yaml:3:3: character name `Captain  Lu` must not contain two spaces in a row (the prompt must repeat it exactly)',
      'videos.yaml:4:3: character name `bad/name` must not contain path separators',
      'videos.yaml:5:17: `video` of character `far` escapes the project directory (got "../m.mp4")',
      'videos.yaml:9:32: unknown character `mascot`',
    ]);
  });

  it('outDir "." puts outputs next to the manifest', async () => {
    const loaded = await loadText('version: 1\noutDir: ./\nvideos:\n  a: { prompt: A., assets: [video, thumbnail, spritesheet] }\n');
    expect(loaded.ok && target(loaded.value.manifest, 'a').outputs).toEqual({
      video: 'a.mp4',
      thumbnail: 'a.thumbnail.webp',
      spritesheet: 'a.spritesheet.jpg',
    });
  });

  it('orders a long chain declared backwards without recursion', async () => {
    const n = 3000;
    let text = 'version: 1\nvideos:\n';
    for (let i = n - 1; i >= 1; i--) text += `  t${i}: { ${i % 2 === 0 ? 'remix' : 'edit'}: t${i - 1}, prompt: Step ${i}. }\n`;
    text += '  t0: { prompt: Start. }\n';
    const loaded = await loadText(text);
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const names = [...loaded.value.manifest.targets.keys()];
    expect(names).toHaveLength(n);
    expect(names.slice(0, 3)).toEqual(['t0', 't1', 't2']);
  });

  it('takes quoted seconds ("8", as the API writes them) as numbers everywhere seconds go', async () => {
    const loaded = await loadText(
      [
        'version: 1',
        'defaults: { seconds: "8" }',
        'provider:',
        '  capabilities:',
        '    models:',
        '      sora-2: { seconds: ["16"] }',
        'videos:',
        '  a: { prompt: A. }',
        "  b: { prompt: B., seconds: '16' }",
        '  c: { extend: a, prompt: C., seconds: "4" }',
        '',
      ].join('\n'),
    );
    if (!loaded.ok) throw new Error(loaded.error.map(formatDiagnostic).join('\n'));
    const m = loaded.value.manifest;
    expect(target(m, 'a').seconds).toBe(8);
    expect(target(m, 'b').seconds).toBe(16);
    expect(target(m, 'c')).toMatchObject({ kind: 'extend', addSeconds: 4, seconds: 12 });
  });

  it('reads YAML merge keys and x- keys, alias values, block scalars and old Mac line ends', async () => {
    const text = [
      'version: 1',
      'x-common: &common',
      '  model: sora-2-pro',
      '  size: 1792x1024',
      'x-more: &more { seconds: 8 }',
      'videos:',
      '  a:',
      '    <<: *common',
      '    prompt: &p >-',
      '      A lighthouse',
      '      at dawn.',
      '  b:',
      '    <<: [*more, *common]',
      '    size: 1024x1792',
      '    prompt: *p',
      '',
    ].join('\r');
    const loaded = await loadText(text);
    if (!loaded.ok) throw new Error(loaded.error.map(formatDiagnostic).join('\n'));
    const m = loaded.value.manifest;
    expect(target(m, 'a')).toMatchObject({ model: 'sora-2-pro', size: '1792x1024', seconds: 4, prompt: 'A lighthouse at dawn.', location: { line: 7, col: 3 } });
    expect(target(m, 'b')).toMatchObject({ model: 'sora-2-pro', size: '1024x1792', seconds: 8, prompt: 'A lighthouse at dawn.', location: { line: 12, col: 3 } });
  });
});
