import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Diagnostic } from '../../src/core/diagnostic.js';
import { loadManifest } from '../../src/manifest/load-manifest.js';
import { mutateJson, type JsonObject } from './hostile-generators.js';

/**
 * Hostile-input campaign, manifest side. A manifest can arrive in an
 * untrusted pull request, so whatever `videos.yaml` holds the loader returns
 * a manifest or its own diagnostics (one line each, with a location), never
 * throws, never writes a file, never accepts a path that leaves the project,
 * and finishes: the bombs run in the real CLI under a hard kill-timer.
 */

const CLI = path.resolve('bin/vidbuild.js');
const run = promisify(execFile);
const RUNS = 200;

async function tempDir(prefix = 'vidbuild-hostile-manifest-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function listTree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

function expectOwnDiagnostics(ds: readonly Diagnostic[]): void {
  expect(ds.length).toBeGreaterThan(0);
  for (const d of ds) {
    expect(typeof d.code).toBe('string');
    expect(d.code.length).toBeGreaterThan(0);
    expect(d.message).not.toContain('\n');
  }
}

type Loaded = Awaited<ReturnType<typeof loadManifest>>;

/** Every path the accepted manifest names stays lexically inside the project. */
function expectContained(r: Loaded): void {
  if (!r.ok) return expectOwnDiagnostics(r.error);
  const paths: string[] = [r.value.manifest.outDir];
  for (const t of r.value.manifest.targets.values()) {
    paths.push(...Object.values(t.outputs).filter((p): p is NonNullable<typeof p> => p !== undefined));
    if (t.kind === 'generate' && t.inputReference?.type === 'file') paths.push(t.inputReference.path);
    if ((t.kind === 'edit' || t.kind === 'extend') && t.source.type === 'file') paths.push(t.source.path);
  }
  for (const c of r.value.manifest.characters.values()) paths.push(c.video);
  for (const p of paths) {
    const abs = path.resolve(r.value.manifest.projectDir, p);
    expect(path.relative(r.value.manifest.projectDir, abs).startsWith('..')).toBe(false);
    expect(path.isAbsolute(p)).toBe(false);
  }
}

const validManifest: JsonObject = {
  version: 1,
  defaults: { model: 'sora-2', size: '720x1280', seconds: 4 },
  outDir: 'renders',
  videos: {
    intro: { prompt: 'A lighthouse at dawn', seconds: 8, assets: ['video', 'thumbnail'] },
    night: { remix: 'intro', prompt: 'At night' },
    longer: { extend: 'intro', prompt: 'The camera rises', seconds: 4 },
    warm: { edit: 'intro', prompt: 'Warmer' },
  },
};

async function loadText(dir: string, text: string | Uint8Array): Promise<Loaded> {
  const file = path.join(dir, 'videos.yaml');
  await writeFile(file, text);
  return loadManifest(file, { cwd: dir });
}

describe('hostile manifests: properties', () => {
  it('the unmutated base manifest loads (sanity check)', async () => {
    const dir = await tempDir();
    const r = await loadText(dir, stringify(validManifest));
    expect(r.ok ? 'ok' : r.error.map((d) => d.message)).toBe('ok');
  });

  it('random text and bytes: own diagnostics, no throw, no file written', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'videos.yaml'), '');
    const yamlish = fc
      .array(fc.constantFrom('a', ':', ' ', '\n', '-', '[', ']', '{', '}', '&x', '*x', '!!', '"', "'", '#', '|', '>', '\t', '?', 'videos', 'prompt', '..'), { maxLength: 80 })
      .map((xs) => xs.join(''));
    await fc.assert(
      fc.asyncProperty(fc.oneof(yamlish, fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 300 })), async (text) => {
        const before = await listTree(dir);
        const r = await loadText(dir, text);
        expectContained(r);
        expect(await listTree(dir)).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('valid manifests mutated structurally: own diagnostics, and an accepted one stays inside the project', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'videos.yaml'), '');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), async (choices) => {
        const before = await listTree(dir);
        const r = await loadText(dir, stringify(mutateJson(validManifest, choices)));
        expectContained(r);
        expect(await listTree(dir)).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('valid manifests mutated at the text level (cuts, indentation, stray characters)', async () => {
    const dir = await tempDir();
    const text = stringify(validManifest);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(' ', '\t', ':', '\n', '&a ', '*a', '\u0000', '\ufeff', '\r', '"', '- ', '')), { minLength: 1, maxLength: 6 }),
        async (edits) => {
          let t = text;
          for (const [at, s] of edits) {
            const i = at % (t.length + 1);
            t = s === '' ? t.slice(0, i) + t.slice(i + 1) : t.slice(0, i) + s + t.slice(i);
          }
          expectContained(await loadText(dir, t));
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('hostile manifests: hand-written cases', () => {
  const pathEscapes = [
    { name: 'parent', yaml: 'input_reference: ../secret.png' },
    { name: 'nested parent', yaml: 'input_reference: refs/../../secret.png' },
    { name: 'absolute', yaml: 'input_reference: /etc/passwd' },
    { name: 'ssh key', yaml: 'input_reference: ~/.ssh/id_rsa' },
    { name: 'windows drive', yaml: 'input_reference: "C:\\\\Users\\\\me\\\\a.png"' },
    { name: 'windows backslashes', yaml: 'input_reference: "..\\\\..\\\\a.png"' },
    { name: 'UNC', yaml: 'input_reference: "\\\\\\\\server\\\\share\\\\a.png"' },
    { name: 'NUL in path', yaml: 'input_reference: "refs/a.png\\0.txt"' },
    { name: 'edit of a file outside', yaml: 'edit: { file: ../../etc/passwd }' },
    { name: 'extend of an absolute file', yaml: 'extend: { file: /etc/hosts }\n    seconds: 4' },
  ];
  it.each(pathEscapes)('an input path that escapes ($name) is an error at its line', async ({ yaml }) => {
    const dir = await tempDir();
    const r = await loadText(dir, `version: 1\nvideos:\n  a:\n    prompt: x\n    ${yaml}\n`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expectOwnDiagnostics(r.error);
    expect(r.error.some((d) => (d.location?.line ?? 0) >= 4)).toBe(true);
  });

  it.each([
    { name: 'parent', out: '../elsewhere' },
    { name: 'absolute', out: '/tmp' },
    { name: 'windows', out: 'C:\\\\out' },
    { name: 'home', out: '~/videos' },
  ])('an outDir that escapes ($name) is an error', async ({ out }) => {
    const dir = await tempDir();
    const r = await loadText(dir, `version: 1\noutDir: "${out}"\nvideos:\n  a: { prompt: x }\n`);
    expect(r.ok ? 'accepted' : r.error[0]?.location?.line).toBe(2);
  });

  it('a symlinked directory or file that leads outside the project is refused', async () => {
    const outside = await tempDir('vidbuild-outside-');
    await writeFile(path.join(outside, 'id_rsa.png'), 'PRIVATE KEY');
    const dir = await tempDir();
    await symlink(outside, path.join(dir, 'refs'));
    await symlink(path.join(outside, 'id_rsa.png'), path.join(dir, 'key.png'));
    const viaDir = await loadText(dir, 'version: 1\nvideos:\n  a:\n    prompt: x\n    input_reference: refs/id_rsa.png\n');
    expect(viaDir.ok).toBe(false);
    const viaFile = await loadText(dir, 'version: 1\nvideos:\n  a:\n    prompt: x\n    input_reference: key.png\n');
    expect(viaFile.ok).toBe(false);
    const outDir = await loadText(dir, 'version: 1\noutDir: refs\nvideos:\n  a: { prompt: x }\n');
    expect(outDir.ok).toBe(false);
    const charVideo = await loadText(dir, 'version: 1\ncharacters:\n  m: { video: refs/id_rsa.png }\nvideos:\n  a: { prompt: m waves, characters: [m] }\n');
    expect(charVideo.ok).toBe(false);
  });

  it.each(['.hidden', '..', '.', 'CON', 'nul', 'aux.mp4', 'com1', 'LPT9', 'a/b', 'a\\\\b', 'trailing.', '-', ' ', 'x'.repeat(300), 'é'])(
    'target name %j is refused (reserved, hidden or not portable)',
    async (name) => {
      const dir = await tempDir();
      const r = await loadText(dir, `version: 1\nvideos:\n  "${name}": { prompt: x }\n`);
      expect(r.ok).toBe(false);
      if (!r.ok) expectOwnDiagnostics(r.error);
    },
  );

  it('BOM and CRLF are accepted, and CRLF keeps line numbers right', async () => {
    const dir = await tempDir();
    const text = 'version: 1\nvideos:\n  a: { prompt: x }\n  b: { promt: y }\n';
    const bom = await loadText(dir, `\ufeff${text.replace('promt', 'prompt')}`);
    expect(bom.ok).toBe(true);
    const crlf = await loadText(dir, text.replace(/\n/g, '\r\n'));
    expect(crlf.ok ? 'accepted' : crlf.error[0]?.location?.line).toBe(4);
  });

  it('NUL bytes and invalid UTF-8 are refused as text problems', async () => {
    const dir = await tempDir();
    for (const bytes of [Buffer.from('version: 1\nvideos:\n  a: { prompt: "x\u0000y" }\n'), Buffer.from([0x76, 0xff, 0xfe, 0x0a])]) {
      const r = await loadText(dir, bytes);
      expect(r.ok).toBe(false);
      if (!r.ok) expectOwnDiagnostics(r.error);
    }
  });

  /**
   * The bombs go through the real CLI with a kill-timer: if the loader hangs
   * or blows the stack the child is killed or prints a stack, and the test
   * says so. The timer is a hang detector, not a speed goal.
   */
  async function validate(dir: string): Promise<{ code: number; stderr: string; stdout: string }> {
    try {
      const r = await run(process.execPath, [CLI, 'validate', '-f', 'videos.yaml'], { cwd: dir, timeout: 90_000, maxBuffer: 1 << 24 });
      return { code: 0, stderr: r.stderr, stdout: r.stdout };
    } catch (e: unknown) {
      if (e instanceof Error && 'killed' in e && e.killed === true) throw new Error('vidbuild validate hung (killed after 90 s)');
      const code = e instanceof Error && 'code' in e && typeof e.code === 'number' ? e.code : -1;
      const stderr = e instanceof Error && 'stderr' in e && typeof e.stderr === 'string' ? e.stderr : '';
      const stdout = e instanceof Error && 'stdout' in e && typeof e.stdout === 'string' ? e.stdout : '';
      return { code, stderr, stdout };
    }
  }

  const bomb = (levels: number): string => {
    let s = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < levels; i++) s += `a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]\n`;
    return s;
  };

  it.each([
    { name: 'alias bomb (billion laughs)', text: `${bomb(9)}version: 1\nvideos:\n  a: { prompt: x, extra: *a8 }\n`, code: 'yaml-alias-bomb' },
    { name: 'alias bomb inside a prompt', text: `${bomb(9)}version: 1\nvideos:\n  a: { prompt: *a8 }\n`, code: '' },
    { name: 'deep flow nesting', text: `version: 1\nvideos: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`, code: '' },
    { name: 'deep block nesting', text: `version: 1\nvideos:\n${Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i + 2)}k${i}:`).join('\n')} x\n`, code: '' },
    { name: '10 MB prompt', text: `version: 1\nvideos:\n  a: { prompt: "${'x'.repeat(10 * 1024 * 1024)}" }\n`, code: 'manifest-too-large' },
    { name: '7 MB prompt (under the read bound)', text: `version: 1\nvideos:\n  a: { prompt: "${'x'.repeat(7 * 1024 * 1024)}" }\n`, code: '' },
    { name: '2k targets of garbage keys', text: `version: 1\nvideos:\n${Array.from({ length: 2000 }, (_, i) => `  t${i}: { promt: x }`).join('\n')}\n`, code: '' },
    // Finding R1 (fixed in 2ee7e5a): schema errors were collected in quadratic time and all printed
    // (40k invalid targets: 10 s and 80,000 lines; 100k: 60 s).
    { name: '30k targets of garbage keys', text: `version: 1\nvideos:\n${Array.from({ length: 30_000 }, (_, i) => `  t${i}: { promt: x }`).join('\n')}\n`, code: '' },
    { name: 'duplicate keys', text: 'version: 1\nvideos:\n  a: { prompt: x }\n  a: { prompt: y }\n', code: '' },
    { name: 'merge-key recursion', text: 'version: 1\nbase: &b { <<: *b }\nvideos:\n  a: { prompt: x }\n', code: '' },
    { name: 'tags', text: 'version: 1\nvideos:\n  a: { prompt: !!binary aGVsbG8= }\n  b: !!js/function "function(){}"\n', code: '' },
  ])('$name: fails with one-line errors, no stack, no hang', async ({ text, code }) => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'videos.yaml'), text);
    const before = await listTree(dir);
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at .+:\d+:\d+\)?\n/);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    // No amplification: at most a few lines per target in the file, never a flood.
    expect(lines.length).toBeLessThanOrEqual(5000);
    expect(r.stderr.length).toBeLessThan(2 * 1024 * 1024);
    for (const l of lines) expect(l.length).toBeLessThan(2000);
    if (code !== '') {
      const loaded = await loadManifest(path.join(dir, 'videos.yaml'), { cwd: dir });
      expect(loaded.ok ? 'accepted' : loaded.error.map((d) => d.code)).toContain(code);
    }
    expect(await listTree(dir)).toEqual(before);
  });

  it('a FIFO or a directory as the manifest does not hang', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'videos.yaml'));
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/videos\.yaml/);

    // A FIFO blocks an open for reading until a writer comes: it must be refused, not waited on.
    const fifoDir = await tempDir();
    await promisify(execFile)('mkfifo', [path.join(fifoDir, 'videos.yaml')]);
    const fifo = await validate(fifoDir);
    expect(fifo.code).toBe(1);
    expect(fifo.stderr).toBe('videos.yaml: is not a regular file (a FIFO, socket or device); a manifest must be a file\n');

    // The same for the lockfile, which every command reads.
    const lockDir = await tempDir();
    await writeFile(path.join(lockDir, 'videos.yaml'), 'version: 1\nvideos:\n  a: { prompt: A kite. }\n');
    await promisify(execFile)('mkfifo', [path.join(lockDir, 'videos.lock')]);
    const plan = await run(process.execPath, [CLI, 'plan'], { cwd: lockDir, timeout: 90_000 }).catch((e: unknown) => e as { code: number; stderr: string; killed?: boolean });
    expect('killed' in plan && plan.killed === true).toBe(false);
    expect(plan.stderr).toBe('videos.lock: is not a regular file (a FIFO, socket, device or folder); the lockfile must be a file\n');
  });
});
