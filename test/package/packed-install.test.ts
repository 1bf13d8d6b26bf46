import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulator } from '../apply/rig.js';

/**
 * The package as a user installs it: `npm pack` of this checkout (dist is
 * built by `npm test`), installed into a fresh project with
 * `--omit=optional`, the lean install of a CI job that talks to a real
 * provider. Nothing here reaches into the checkout: commands run the
 * installed `node_modules/.bin/vidbuild`.
 */
const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let root = '';
let project = '';
let tarballFiles: readonly string[] = [];
const bin = (): string => path.join(project, 'node_modules', '.bin', 'vidbuild');

async function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(bin(), [...args], { cwd: project, env: { ...process.env, NO_COLOR: '1', OPENAI_API_KEY: '' }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e: unknown) {
    const f = e as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof f.code === 'number' ? f.code : -1, stdout: f.stdout ?? '', stderr: f.stderr ?? '' };
  }
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-pack-'));
  // --ignore-scripts: `prepare` would rebuild dist, which `npm test` just built.
  const packed = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', root], { cwd: path.resolve('.') });
  const info: unknown = JSON.parse(packed.stdout);
  const first: unknown = Array.isArray(info) ? info[0] : undefined;
  const files: unknown = typeof first === 'object' && first !== null ? Reflect.get(first, 'files') : undefined;
  tarballFiles = Array.isArray(files) ? files.map((f: unknown) => String(typeof f === 'object' && f !== null ? Reflect.get(f, 'path') : f)) : [];
  const tgz = (await readdir(root)).find((f) => f.endsWith('.tgz'));
  if (tgz === undefined) throw new Error('npm pack wrote no tarball');
  project = path.join(root, 'project');
  await mkdir(project);
  await writeFile(path.join(project, 'package.json'), '{ "name": "lean-ci", "private": true }\n');
  // --prefer-offline: `npm ci` of this checkout filled the cache with every dependency.
  await run(npm, ['install', '--prefer-offline', '--omit=optional', '--no-audit', '--no-fund', path.join(root, tgz)], { cwd: project, timeout: 150_000 });
});

afterAll(async () => {
  if (root !== '') await rm(root, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('ships a LICENSE and no source map pointing at files it does not contain', () => {
    expect(tarballFiles).toContain('LICENSE');
    expect(tarballFiles.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(tarballFiles.some((f) => f.startsWith('dist/cli/'))).toBe(true);
  });

  it('installs without the emulator\'s ffmpeg and fonts when optional dependencies are omitted', async () => {
    const modules = await readdir(path.join(project, 'node_modules'));
    expect(modules).not.toContain('dejavu-fonts-ttf');
    expect(modules).not.toContain('@ffmpeg-installer');
    await expect(stat(path.join(project, 'node_modules', 'vidbuild', 'package.json'))).resolves.toBeTruthy();
  });

  it('validates and plans in the lean install', async () => {
    await writeFile(
      path.join(project, 'videos.yaml'),
      'version: 1\ndefaults: { model: sora-2, size: 720x1280, seconds: 4 }\nvideos:\n  intro: { prompt: "a lighthouse at dawn" }\n',
    );
    const validate = await cli(['validate']);
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
    const plan = await cli(['plan', '--json']);
    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({ ok: true, steps: [{ name: 'intro', action: 'create' }] });
  });

  it('says in one line what the emulator is missing and how to add it, before it starts', async () => {
    for (const args of [['apply', '--backend', 'emulator', '--yes'], ['emulator', '--port', '0']]) {
      const r = await cli(args);
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('npm install @ffmpeg-installer/ffmpeg dejavu-fonts-ttf');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    // Nothing was created for a run that never started.
    await expect(stat(path.join(project, 'videos.lock'))).rejects.toThrow();
  });

  it('is a typed library: `import { plan, apply } from \'vidbuild\'` plans, applies over the SDK and types check', async () => {
    const emu = await emulator();
    const lib = path.join(project, 'lib');
    await mkdir(lib, { recursive: true });
    await writeFile(path.join(lib, 'videos.yaml'), 'version: 1\noutDir: out\ndefaults: { model: sora-2, size: 720x1280, seconds: 4 }\nvideos:\n  intro: { prompt: "a lighthouse at dawn" }\n');
    await writeFile(path.join(lib, 'bad.yaml'), 'version: 1\nvideos:\n  intro: { prompt: 7, sekonds: 4 }\n');
    await writeFile(
      path.join(lib, 'use.mjs'),
      [
        "import { apply, formatDiagnostic, plan } from 'vidbuild';",
        'const cwd = process.cwd();',
        'const planned = await plan({ cwd });',
        "const bad = await plan({ cwd, file: 'bad.yaml' });",
        'const events = [];',
        'const applied = await apply({ cwd, baseURL: process.env.EMU_URL, onEvent: (e) => events.push(e.type) });',
        "const budget = await apply({ cwd, baseURL: process.env.EMU_URL, replace: ['intro'], maxCost: 0 });",
        'console.log(JSON.stringify({',
        '  planned: planned.ok && planned.plan.steps.map((s) => s.action),',
        '  changes: planned.ok && planned.changes,',
        '  bad: bad.ok ? null : bad.diagnostics.map(formatDiagnostic),',
        '  applied: applied.ok && { exitCode: applied.exitCode, created: applied.summary.created, locked: Object.keys(applied.lock.videos) },',
        '  events: [...new Set(events)],',
        '  budget: budget.ok ? null : budget.refused,',
        '}));',
      ].join('\n'),
    );
    const r = await run(process.execPath, ['use.mjs'], { cwd: lib, env: { ...process.env, EMU_URL: emu.baseURL, OPENAI_API_KEY: 'sk-test-library-0123456789' }, timeout: 60_000 });
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out['planned']).toEqual(['create']);
    expect(out['changes']).toBe(true);
    expect(out['bad']).toEqual(expect.arrayContaining([expect.stringMatching(/^bad\.yaml:3:\d+: /)]));
    expect(out['applied']).toEqual({ exitCode: 0, created: 1, locked: ['intro'] });
    expect(out['events']).toEqual(expect.arrayContaining(['plan-ready', 'job-submitted', 'job-completed', 'run-finished']));
    expect(out['budget']).toBe('max-cost');
    await expect(stat(path.join(lib, 'out', 'intro.mp4'))).resolves.toBeTruthy();

    // The types: a strict TypeScript user of the package, resolved through its `exports`.
    await writeFile(
      path.join(lib, 'typed.mts'),
      [
        "import { apply, plan, type ExecEvent, type Plan } from 'vidbuild';",
        'export async function main(): Promise<void> {',
        '  const p = await plan({ file: "videos.yaml" });',
        '  const steps: Plan["steps"] | undefined = p.ok ? p.plan.steps : undefined;',
        '  const r = await apply({ maxCost: 1, onEvent: (e: ExecEvent) => void e.type });',
        '  if (r.ok) { const n: number = r.summary.created; void n; } else { const d: readonly { message: string }[] = r.diagnostics; void d; }',
        '  void steps;',
        '  // @ts-expect-error: maxCost is a number of USD',
        '  await apply({ maxCost: "5" });',
        '}',
      ].join('\n'),
    );
    const tsc = path.resolve('node_modules', 'typescript', 'bin', 'tsc');
    const typed = await run(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', 'typed.mts'], { cwd: lib, timeout: 60_000 }).then(
      () => '',
      (e: { stdout?: string }) => e.stdout ?? 'tsc failed',
    );
    expect(typed).toBe('');
  });
});
