import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { solidPng } from '../emulator/media.js';
import { ffmpegClip, jpegHeader } from '../fixtures/images.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/vidbuild.js');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function vidbuild(cwd: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function project(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-validate-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

describe('vidbuild validate', () => {
  it('prints a short ok line and exits 0 for a valid manifest', async () => {
    const dir = await project({ 'videos.yaml': 'version: 1\nvideos:\n  a: { prompt: One. }\n  b: { remix: a, prompt: Two. }\n' });
    const r = await vidbuild(dir, 'validate');
    expect(r).toEqual({ code: 0, stdout: 'videos.yaml: ok (2 targets, 0 characters)\n', stderr: '' });
  });

  it('prints every error as one line on stderr, exits 1, no stack', async () => {
    const dir = await project({
      'videos.yaml': 'version: 1\nvideos:\n  a: { promt: One. }\n  b: { remix: zz, prompt: Two., seconds: 5 }\n',
    });
    const r = await vidbuild(dir, 'validate');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      [
        'videos.yaml:3:8: unknown key `promt` in video `a`; did you mean `prompt`?',
        'videos.yaml:4:15: `remix` names unknown target `zz`',
        '',
      ].join('\n'),
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reads input_reference headers: a reference of another size or type is one line at its value, before anything is paid', async () => {
    const dir = await project({
      'videos.yaml': [
        'version: 1',
        'defaults: { size: 720x1280 }',
        'videos:',
        '  a: { prompt: One., input_reference: wide.png }',
        '  b: { prompt: Two., input_reference: tall.jpg }',
        '  c: { prompt: Three., input_reference: photo.jpg }',
        '',
      ].join('\n'),
      'wide.png': solidPng(1280, 720),
      'tall.jpg': jpegHeader(720, 1280, { progressive: true, metadataBytes: 70_000 }),
      'photo.jpg': 'GIF89a not really a jpeg',
    });
    const r = await vidbuild(dir, 'validate');
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: [
        "videos.yaml:4:39: input_reference wide.png is 1280x720 but the video's size is 720x1280 (the API refuses a reference of another size)",
        'videos.yaml:6:41: input_reference photo.jpg is a GIF image, not a JPEG, PNG or WebP image (the API takes only those)',
        '',
      ].join('\n'),
    });
    const plan = await vidbuild(dir, 'plan');
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain("videos.yaml:4:39: input_reference wide.png is 1280x720 but the video's size is 720x1280");
  });

  it('names the file as given with -f', async () => {
    const dir = await project({ 'other.yaml': 'version: 2\nvideos: {}\n' });
    const r = await vidbuild(dir, 'validate', '-f', 'other.yaml');
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'other.yaml:1:10: `version` must be 1 (got 2)\n' });
  });

  it('prints warnings but exits 0', async () => {
    const dir = await project({
      'videos.yaml': 'version: 1\ncharacters:\n  mia: { video: m.mp4 }\nvideos:\n  a: { prompt: A girl waves., characters: [mia] }\n',
    });
    ffmpegClip(path.join(dir, 'm.mp4'), 720, 1280, 3);
    const r = await vidbuild(dir, 'validate');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('videos.yaml: ok (1 target, 1 character, 1 warning)\n');
    expect(r.stderr).toBe('videos.yaml:5:44: warning: the prompt of `a` never mentions character `mia`; the API needs the name verbatim in the prompt\n');
  });

  it('refuses a missing manifest in one line', async () => {
    const dir = await project({});
    const r = await vidbuild(dir, 'validate');
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'videos.yaml: no such file (run `vidbuild init` to create one)\n' });
  });

  it('--json prints diagnostics as one JSON document', async () => {
    const dir = await project({ 'videos.yaml': 'version: 1\nvideos:\n  a: { prompt: One., seconds: 5 }\n' });
    const r = await vidbuild(dir, 'validate', '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const parsed: unknown = JSON.parse(r.stdout);
    expect(parsed).toEqual({
      file: 'videos.yaml',
      ok: false,
      diagnostics: [
        {
          code: 'unsupported-seconds',
          severity: 'error',
          message: 'seconds must be one of 4, 8, 12 (got 5)',
          location: { file: 'videos.yaml', line: 3, col: 31 },
        },
      ],
    });
  });
});
