import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/vidbuild.js');

function vidbuild(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return vidbuildAt(bin, cwd, ...args);
}

function vidbuildAt(binPath: string, cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [binPath, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-init-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** What init says outside any project about the modeline (see the first test). */
const MACHINE_NOTE = `note: the schema modeline names this machine's copy of vidbuild (${path.resolve(path.dirname(bin), '..', 'schemas', 'videos.schema.json')}); teammates may need to change it\n`;

describe('vidbuild init', () => {
  it('writes a starter manifest that validates, with the schema modeline, and ignores .vidbuild/', async () => {
    const dir = await tempDir();
    const r = await vidbuild(dir, 'init');
    const schema = path.resolve(path.dirname(bin), '..', 'schemas', 'videos.schema.json');
    // Outside any project there is no portable place to point to: this machine's copy, said so.
    expect(r).toEqual({
      code: 0,
      stdout: `wrote videos.yaml\nnote: the schema modeline names this machine's copy of vidbuild (${schema}); teammates may need to change it\nadded .vidbuild/ to .gitignore\n`,
      stderr: '',
    });
    const text = await readFile(path.join(dir, 'videos.yaml'), 'utf8');
    expect(text.split('\n')[0]).toBe(`# yaml-language-server: $schema=file://${schema}`);
    expect(await readFile(path.join(dir, '.gitignore'), 'utf8')).toBe('.vidbuild/\n');
    const v = await vidbuild(dir, 'validate');
    expect(v).toEqual({ code: 0, stdout: 'videos.yaml: ok (1 target, 0 characters)\n', stderr: '' });
  });

  it('in a repository with vidbuild in node_modules (here an npm link): a modeline relative to the manifest, no machine path', async () => {
    const repo = await tempDir();
    await mkdir(path.join(repo, '.git'));
    await writeFile(path.join(repo, 'package.json'), '{"name":"film","private":true}\n');
    await mkdir(path.join(repo, 'node_modules'));
    await symlink(path.resolve(path.dirname(bin), '..'), path.join(repo, 'node_modules/vidbuild'));
    await mkdir(path.join(repo, 'site'));
    const r = await vidbuildAt(path.join(repo, 'node_modules/vidbuild/bin/vidbuild.js'), repo, 'init', '-f', 'site/videos.yaml');
    expect(r).toEqual({ code: 0, stdout: 'wrote site/videos.yaml\nadded .vidbuild/ to site/.gitignore\n', stderr: '' });
    const first = (await readFile(path.join(repo, 'site/videos.yaml'), 'utf8')).split('\n')[0];
    expect(first).toBe('# yaml-language-server: $schema=../node_modules/vidbuild/schemas/videos.schema.json');
    // yaml-language-server resolves it against the manifest's folder: it names the real schema.
    const ref = first?.split('$schema=')[1] ?? '';
    expect(JSON.parse(await readFile(path.resolve(repo, 'site', ref), 'utf8'))).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema' });
  });

  it('in a Node project that runs vidbuild from elsewhere: where a dev dependency would be, and says how to install it', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'package.json'), '{"name":"film","private":true}\n');
    const r = await vidbuild(dir, 'init');
    expect(r.stdout).toBe(
      'wrote videos.yaml\nnote: the schema modeline expects vidbuild in node_modules: `npm install --save-dev vidbuild` for editor completion\nadded .vidbuild/ to .gitignore\n',
    );
    expect((await readFile(path.join(dir, 'videos.yaml'), 'utf8')).split('\n')[0]).toBe(
      '# yaml-language-server: $schema=./node_modules/vidbuild/schemas/videos.schema.json',
    );
  });

  it('refuses to overwrite without --force, and keeps .gitignore idempotent', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'videos.yaml'), 'mine\n');
    await writeFile(path.join(dir, '.gitignore'), 'node_modules/\n.vidbuild/\n');
    const r = await vidbuild(dir, 'init');
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'videos.yaml already exists; use --force to overwrite it\n' });
    expect(await readFile(path.join(dir, 'videos.yaml'), 'utf8')).toBe('mine\n');
    const forced = await vidbuild(dir, 'init', '--force');
    expect(forced).toEqual({ code: 0, stdout: `wrote videos.yaml\n${MACHINE_NOTE}`, stderr: '' });
    expect(await readFile(path.join(dir, '.gitignore'), 'utf8')).toBe('node_modules/\n.vidbuild/\n');
  });

  it('writes to -f and appends to an existing .gitignore', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, '.gitignore'), 'dist');
    const r = await vidbuild(dir, 'init', '-f', 'clips.yaml');
    expect(r.code).toBe(0);
    expect(await readFile(path.join(dir, '.gitignore'), 'utf8')).toBe('dist\n.vidbuild/\n');
    expect((await vidbuild(dir, 'validate', '-f', 'clips.yaml')).stdout).toBe('clips.yaml: ok (1 target, 0 characters)\n');
  });

  it('leaves a .gitignore that is a symlink out of the project alone, and says so', async () => {
    const dir = await tempDir();
    const outside = await tempDir();
    await writeFile(path.join(outside, 'global.gitignore'), 'node_modules\n');
    await symlink(path.join(outside, 'global.gitignore'), path.join(dir, '.gitignore'));
    const r = await vidbuild(dir, 'init');
    expect(r).toEqual({ code: 0, stdout: `wrote videos.yaml\n${MACHINE_NOTE}.gitignore leads outside the project; add .vidbuild/ to it yourself\n`, stderr: '' });
    expect(await readFile(path.join(outside, 'global.gitignore'), 'utf8')).toBe('node_modules\n');
  });

  it('-f into a new subdirectory creates the folder, and the project there validates', async () => {
    const dir = await tempDir();
    const r = await vidbuild(dir, 'init', '-f', 'site/clips/videos.yaml');
    expect(r).toEqual({ code: 0, stdout: `wrote site/clips/videos.yaml\n${MACHINE_NOTE}added .vidbuild/ to site/clips/.gitignore\n`, stderr: '' });
    expect(await readFile(path.join(dir, 'site/clips/.gitignore'), 'utf8')).toBe('.vidbuild/\n');
    expect((await vidbuild(dir, 'validate', '-f', 'site/clips/videos.yaml')).code).toBe(0);
  });

  it('-f naming a folder (existing, or with a trailing slash) is refused in one line, and writes nothing', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'site'));
    for (const [arg, shown] of [['site', 'site'], ['site/', 'site'], ['new/', 'new']] as const) {
      const r = await vidbuild(dir, 'init', '-f', arg, '--force');
      expect(r).toEqual({ code: 1, stdout: '', stderr: `${shown} is a folder; name the manifest file, e.g. -f ${shown}/videos.yaml\n` });
    }
    expect((await readdir(dir)).sort()).toEqual(['site']);
    expect(await readdir(path.join(dir, 'site'))).toEqual([]);
  });

  it('a file where a folder should be is one line, no stack', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'site'), 'a file\n');
    const r = await vidbuild(dir, 'init', '-f', 'site/videos.yaml');
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'site/videos.yaml: cannot create folder site (a file is in the way)\n' });
  });

  it('--force never writes through a manifest symlink that leads outside the project or nowhere', async () => {
    const dir = await tempDir();
    const outside = await tempDir();
    await writeFile(path.join(outside, 'theirs.yaml'), 'theirs\n');
    await symlink(path.join(outside, 'theirs.yaml'), path.join(dir, 'videos.yaml'));
    await symlink(path.join(outside, 'not-yet.yaml'), path.join(dir, 'dangling.yaml'));
    for (const f of ['videos.yaml', 'dangling.yaml']) {
      const r = await vidbuild(dir, 'init', '--force', '-f', f);
      expect(r).toEqual({ code: 1, stdout: '', stderr: `${f} is a symlink leading outside the project or nowhere; init does not write through it\n` });
    }
    expect(await readdir(outside)).toEqual(['theirs.yaml']);
    expect(await readFile(path.join(outside, 'theirs.yaml'), 'utf8')).toBe('theirs\n');
  });

  it('a .gitignore that cannot be updated (a folder, a FIFO) is a warning after the manifest is written, not an internal error', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, '.gitignore'));
    const r = await vidbuild(dir, 'init');
    expect(r).toEqual({
      code: 0,
      stdout: `wrote videos.yaml\n${MACHINE_NOTE}`,
      stderr: 'warning: cannot update .gitignore (not a regular file); add .vidbuild/ to your ignore file yourself\n',
    });
    expect((await vidbuild(dir, 'validate')).code).toBe(0);

    // A FIFO: reading it waited for a writer forever.
    const fifo = await tempDir();
    await promisify(execFile)('mkfifo', [path.join(fifo, '.gitignore')]);
    const f = await vidbuild(fifo, 'init');
    expect(f).toEqual({ code: 0, stdout: `wrote videos.yaml\n${MACHINE_NOTE}`, stderr: 'warning: cannot update .gitignore (not a regular file); add .vidbuild/ to your ignore file yourself\n' });
  });

  it('--force never opens a manifest path that is a FIFO (it waited for a reader forever)', async () => {
    const dir = await tempDir();
    await promisify(execFile)('mkfifo', [path.join(dir, 'videos.yaml')]);
    for (const args of [['init'], ['init', '--force']]) {
      const r = await vidbuild(dir, ...args);
      expect(r).toEqual({ code: 1, stdout: '', stderr: 'videos.yaml exists and is not a regular file (a pipe, socket or device); init does not write to it\n' });
    }
  });
});
