import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { loadManifest } from '../../src/manifest/load-manifest.js';
import { MAX_MANIFEST_BYTES } from '../../src/manifest/read-bounded.js';
import { solidPng } from '../emulator/media.js';

/** A temp project holding `videos.yaml` with these bytes; removed after the test. */
async function project(content: string | Uint8Array, extra?: (dir: string) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-hostile-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'videos.yaml'), content);
  if (extra) await extra(dir);
  return dir;
}

async function messages(dir: string, file = 'videos.yaml'): Promise<string[]> {
  const loaded = await loadManifest(file, { cwd: dir });
  return loaded.ok ? [] : loaded.error.map(formatDiagnostic);
}

const VALID = 'version: 1\nvideos:\n  intro: { prompt: A lighthouse. }\n';

describe('hostile and odd input', () => {
  it('refuses an alias bomb without expanding it', async () => {
    let bomb = 'version: 1\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    let prev = 'a';
    for (const n of 'bcdefghi') {
      bomb += `${n}: &${n} [${Array.from({ length: 9 }, () => `*${prev}`).join(',')}]\n`;
      prev = n;
    }
    bomb += 'videos:\n  intro: { prompt: *i }\n';
    expect(await messages(await project(bomb))).toEqual([
      'videos.yaml:8:8: YAML aliases expand to more than 1,000,000 nodes; refusing a possible alias bomb',
    ]);
  });

  it('accepts a merge of shared settings into every one of 2,000 targets (yaml counted each as an alias bomb past 100)', async () => {
    let text = 'version: 1\nx-common: &common { model: sora-2-pro, size: 1792x1024, seconds: 8 }\nvideos:\n';
    for (let i = 0; i < 2000; i++) text += `  t${i}:\n    <<: *common\n    prompt: >-\n      Shot ${i} of a lighthouse.\n`;
    const loaded = await loadManifest('videos.yaml', { cwd: await project(text) });
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.value.manifest.targets.size).toBe(2000);
    expect(loaded.value.manifest.targets.get('t1999' as never)).toMatchObject({ model: 'sora-2-pro', size: '1792x1024', seconds: 8, prompt: 'Shot 1999 of a lighthouse.' });
  });

  it('a wrong value reached through a merge is still located where the alias is used', async () => {
    const merged = 'version: 1\nx-bad: &bad { seconds: 5 }\nvideos:\n  a: { <<: *bad, prompt: x }\n';
    expect(await messages(await project(merged))).toEqual(['videos.yaml:2:24: seconds must be one of 4, 8, 12 (got 5)']);
    const aliased = 'version: 1\nx-five: &five 5\nvideos:\n  a: { prompt: x }\n  b: { prompt: y, seconds: *five }\n';
    expect(await messages(await project(aliased))).toEqual(['videos.yaml:5:28: seconds must be one of 4, 8, 12 (got 5)']);
  });

  it('refuses a large manifest that needs the full YAML parser before parsing it', async () => {
    // Plain lines the fast reader would take, but one anchor sends the file to the full parser:
    // 8 MiB of such lines cost yaml ~10 s and ~1 GB.
    const lines = Array.from({ length: 160_000 }, (_, i) => `  k${i}: 1\n`).join('');
    const text = `version: 1\nx-a: &a 1\nvideos:\n  a: { prompt: hi }\nx-junk:\n${lines}`;
    expect(await messages(await project(text))).toEqual([
      'videos.yaml: too large for the general YAML parser (160,007 lines and flow items, limit 150,000); larger manifests must be plain YAML (no anchors, aliases, tags, block scalars, tabs or multi-line values) and free of syntax errors and duplicate keys',
    ]);
    // The same size without the anchor is plain and loads.
    expect(await messages(await project(text.replace('x-a: &a 1\n', '')))).toEqual([]);
  });

  it('counts flow items toward the full-parser bound', async () => {
    const text = `version: 1\nx-a: &a 1\nvideos:\n  a: { prompt: hi }\nx-junk: [${'1,'.repeat(150_000)}1]\n`;
    const lines = await messages(await project(text));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^videos\.yaml: too large for the general YAML parser \(150,00\d lines and flow items, limit 150,000\)/);
  });

  it('accepts a few aliases for shared text', async () => {
    const text = 'version: 1\nvideos:\n  a: { prompt: &p A lighthouse. }\n  b: { prompt: *p, seconds: 8 }\n';
    const loaded = await loadManifest('videos.yaml', { cwd: await project(text) });
    expect(loaded.ok && [...loaded.value.manifest.targets.values()].map((t) => t.prompt)).toEqual(['A lighthouse.', 'A lighthouse.']);
  });

  it('refuses a huge document before parsing it', async () => {
    const huge = `version: 1\nvideos:\n${'  # padding padding padding padding padding padding padding padding\n'.repeat(Math.ceil(MAX_MANIFEST_BYTES / 60))}`;
    expect(await messages(await project(huge))).toEqual([
      'videos.yaml: file is larger than 8 MiB; a manifest should be a small text file',
    ]);
  });

  it('refuses binary input', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => (i * 37) % 256);
    expect(await messages(await project(bytes))).toEqual([
      'videos.yaml:1:1: file contains a NUL byte; a manifest must be UTF-8 text, not binary',
    ]);
  });

  it('refuses a NUL byte inside text at its position', async () => {
    expect(await messages(await project('version: 1\nvideos:\n  intro: { prompt: A\u0000B }\n'))).toEqual([
      'videos.yaml:3:21: file contains a NUL byte; a manifest must be UTF-8 text, not binary',
    ]);
  });

  it('refuses invalid UTF-8 (Latin-1) at its position', async () => {
    const bytes = Buffer.concat([Buffer.from('version: 1\nvideos:\n  intro: { prompt: caf'), Buffer.from([0xe9]), Buffer.from(' }\n')]);
    expect(await messages(await project(bytes))).toEqual(['videos.yaml:3:23: file is not valid UTF-8 text']);
  });

  it('says a UTF-16 file (what Windows editors save as "Unicode") is UTF-16, not binary', async () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(VALID, 'utf16le')]);
    const be = Buffer.from(le).swap16();
    expect(await messages(await project(le))).toEqual(['videos.yaml:1:1: file is UTF-16 text; save it as UTF-8']);
    expect(await messages(await project(be))).toEqual(['videos.yaml:1:1: file is UTF-16 text; save it as UTF-8']);
  });

  it.each([
    { name: 'empty', content: '' },
    { name: 'whitespace only', content: '\n  \n\t\n' },
    { name: 'a BOM and nothing else', content: '\uFEFF' },
  ])('refuses an empty file ($name)', async ({ content }) => {
    expect(await messages(await project(content))).toEqual([
      'videos.yaml: file is empty; it needs at least `version: 1` and `videos:`',
    ]);
  });

  it('refuses a document that is only comments', async () => {
    expect(await messages(await project('# nothing here\n'))).toEqual(['videos.yaml:1:1: the manifest must be a map with `version` and `videos` (got nothing; is this the right file?)']);
  });

  it('accepts a UTF-8 BOM and CRLF line endings, with positions unchanged', async () => {
    const text = `\uFEFF${VALID.replaceAll('\n', '\r\n')}`;
    const dir = await project(text);
    const loaded = await loadManifest('videos.yaml', { cwd: dir });
    expect(loaded.ok).toBe(true);
    const bad = await project(`\uFEFFversion: 1\r\nvideos:\r\n  intro: { prompt: A lighthouse., seconds: 5 }\r\n`);
    expect(await messages(bad)).toEqual(['videos.yaml:3:44: seconds must be one of 4, 8, 12 (got 5)']);
  });

  it('refuses deep flow nesting without overflowing the stack', async () => {
    const deep = `version: 1\nvideos: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    const lines = await messages(await project(deep));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^videos\.yaml:2:\d+: YAML nests too deeply/);
  });

  it('refuses deep block nesting', async () => {
    let deep = 'version: 1\nvideos:\n';
    for (let i = 1; i <= 40; i++) deep += `${'  '.repeat(i)}k${i}:\n`;
    const lines = await messages(await project(deep));
    expect(lines).toEqual(['videos.yaml:35:67: YAML nests deeper than 32 levels']);
  });

  it('refuses a missing manifest with a hint', async () => {
    const dir = await project(VALID);
    expect(await messages(dir, 'other.yaml')).toEqual(['other.yaml: no such file (run `vidbuild init` to create one)']);
  });

  it('refuses a directory as manifest', async () => {
    const dir = await project(VALID, (d) => mkdir(path.join(d, 'sub.yaml')));
    expect(await messages(dir, 'sub.yaml')).toEqual(['sub.yaml: is a directory, not a manifest']);
  });

  it('a directory holding a videos.yaml is pointed at it', async () => {
    const dir = await project(VALID, async (d) => {
      await mkdir(path.join(d, 'site'));
      await writeFile(path.join(d, 'site', 'videos.yaml'), 'version: 1\nvideos: {}\n');
    });
    expect(await messages(dir, 'site')).toEqual(['site: is a directory, not a manifest (did you mean -f site/videos.yaml?)']);
  });

  it('quotes the suggested path when it has a space, so it can be pasted into a shell', async () => {
    const dir = await project(VALID, async (d) => {
      await mkdir(path.join(d, "my site's"));
      await writeFile(path.join(d, "my site's", 'videos.yaml'), 'version: 1\nvideos: {}\n');
    });
    expect(await messages(dir, "my site's")).toEqual([`my site's: is a directory, not a manifest (did you mean -f 'my site'\\''s/videos.yaml'?)`]);
  });

  it('refuses an input file that is a symlink leading out of the project', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-outside-'));
    onTestFinished(() => rm(outside, { recursive: true, force: true }));
    await writeFile(path.join(outside, 'secret.png'), 'x');
    const text = 'version: 1\nvideos:\n  intro:\n    prompt: A lighthouse.\n    input_reference: refs/secret.png\n';
    const dir = await project(text, async (d) => {
      await mkdir(path.join(d, 'refs'));
      await symlink(path.join(outside, 'secret.png'), path.join(d, 'refs', 'secret.png'));
    });
    expect(await messages(dir)).toEqual([
      'videos.yaml:5:22: input_reference: refs/secret.png leads outside the project directory through a symlink',
    ]);
  });

  it('refuses an outDir that is a symlink leading out of the project', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-outside-'));
    onTestFinished(() => rm(outside, { recursive: true, force: true }));
    const text = 'version: 1\noutDir: renders/final\nvideos:\n  intro: { prompt: A lighthouse. }\n';
    const dir = await project(text, (d) => symlink(outside, path.join(d, 'renders')));
    expect(await messages(dir)).toEqual([
      'videos.yaml:2:9: `outDir` renders/final leads outside the project directory through a symlink',
    ]);
  });

  it('refuses a named pipe as a referenced file instead of waiting on it forever', async () => {
    const text = 'version: 1\ncharacters:\n  m: { video: pipe.mp4 }\nvideos:\n  intro:\n    prompt: m at a lighthouse.\n    input_reference: pipe.png\n    characters: [m]\n';
    const dir = await project(text, async (d) => {
      execFileSync('mkfifo', [path.join(d, 'pipe.png'), path.join(d, 'pipe.mp4')]);
    });
    expect(await messages(dir)).toEqual([
      'videos.yaml:3:15: video of character `m`: pipe.mp4 is not a regular file (a pipe, socket or device)',
      'videos.yaml:7:22: input_reference: pipe.png is not a regular file (a pipe, socket or device)',
    ]);
  });

  it('follows a symlink that stays inside the project', async () => {
    const text = 'version: 1\nvideos:\n  intro:\n    prompt: A lighthouse.\n    input_reference: link.png\n';
    const dir = await project(text, async (d) => {
      await writeFile(path.join(d, 'real.png'), solidPng(720, 1280));
      await symlink(path.join(d, 'real.png'), path.join(d, 'link.png'));
    });
    expect(await messages(dir)).toEqual([]);
  });

  it('reports a file given by absolute path relative to cwd', async () => {
    const dir = await project('version: 1\nvideos:\n  intro: { prompt: A lighthouse., seconds: 5 }\n');
    const loaded = await loadManifest(path.join(dir, 'videos.yaml'), { cwd: dir });
    expect(!loaded.ok && loaded.error.map(formatDiagnostic)).toEqual(['videos.yaml:3:44: seconds must be one of 4, 8, 12 (got 5)']);
  });
});

describe('many broken targets', () => {
  it('reports the first 200 errors and counts the rest (validation stays linear)', async () => {
    let text = 'version: 1\nvideos:\n';
    for (let i = 0; i < 20_000; i++) text += `  t${i}: { junk${i}: 1 }\n`;
    const lines = await messages(await project(text));
    expect(lines).toHaveLength(201);
    expect(lines[0]).toBe('videos.yaml:3:3: video `t0` is missing required key `prompt`');
    expect(lines[200]).toBe('... and 39800 more errors not shown');
  });
});
