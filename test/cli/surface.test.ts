import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../reliability/run-cli.js';

/**
 * The command line as a stranger meets it: mistakes are one line (with a
 * suggestion when there is one), never a different command than typed, and
 * every exit code is written down in --help.
 */
let project: string;

beforeAll(async () => {
  project = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-surface-'));
  await writeFile(path.join(project, 'videos.yaml'), 'version: 1\nvideos:\n  a: { prompt: "A lighthouse." }\n');
});
afterAll(() => rm(project, { recursive: true, force: true }));

const COMMANDS = ['init', 'validate', 'plan', 'apply', 'pull', 'status', 'prune', 'import', 'watch', 'emulator'];

describe('command line surface', () => {
  it.each([
    [['plan', '--target', '--json'], "error: option '--target <name...>' argument '--json' is invalid. expected a value, not the option --json"],
    [['plan', '--replace', '--detailed-exitcode'], "error: option '--replace <name...>' argument '--detailed-exitcode' is invalid. expected a value, not the option --detailed-exitcode"],
    [['validate', '-f', '--json'], "error: option '-f, --file <path>' argument '--json' is invalid. expected a value, not the option --json"],
    [['apply', '--backend', '--yes'], "error: option '--backend <kind>' argument '--yes' is invalid. expected a value, not the option --yes"],
    [['apply', '--target', '-y'], "error: option '--target <name...>' argument '-y' is invalid. expected a value, not the option -y"],
    [['status', '--base-url', '--json'], "error: option '--base-url <url>' argument '--json' is invalid. expected a value, not the option --json"],
    [['pull', '--file=--help'], "error: option '-f, --file <path>' argument '--help' is invalid. expected a value, not the option --help"],
    [['emulator', '--dir', '--port', '0'], "error: option '--dir <path>' argument '--port' is invalid. expected a value, not the option --port"],
    [['plan', '--target='], "error: option '--target <name...>' argument '' is invalid. expected a value, got an empty one"],
    [['validate', '-f', ''], "error: option '-f, --file <path>' argument '' is invalid. expected a value, got an empty one"],
    [['status', '--base-url', ' '], "error: option '--base-url <url>' argument ' ' is invalid. expected a value, got an empty one"],
    [['validate', '-f=videos.yaml'], 'error: option \'-f, --file <path>\' argument \'=videos.yaml\' is invalid. a short option takes no "=": write -f videos.yaml or --file=videos.yaml'],
  ])('%j: an option, an empty value or -f=x is never taken as a value', async (args, message) => {
    const r = await runCli(args, { cwd: project });
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: `${message}\n` });
    expect(await readdir(project)).toEqual(['videos.yaml']);
  });

  it('a value that only starts with a dash still reaches the option (and its own check)', async () => {
    const r = await runCli(['plan', '--target', '-x'], { cwd: project });
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'no target named -x in videos.yaml\n' });
    const ok = await runCli(['plan', '--target', 'a', '--json'], { cwd: project });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, steps: [{ name: 'a' }] });
  });

  it.each([
    [['plna'], "error: unknown command 'plna' (did you mean plan?)"],
    [['help', 'statsu'], "error: unknown command 'statsu' (did you mean status?)"],
    [['frobnicate'], "error: unknown command 'frobnicate'"],
    [['plan', '--jsn'], "error: unknown option '--jsn' (did you mean --json?)"],
    [['apply', '--max-cots', '5'], "error: unknown option '--max-cots' (did you mean --max-cost?)"],
    [['-f', 'videos.yaml', 'plan'], "error: unknown option '-f'; options go after the command: vidbuild plan -f …"],
    [['--file=videos.yaml', 'validate'], "error: unknown option '--file=videos.yaml'; options go after the command: vidbuild validate --file …"],
    [['--jsn', 'status'], "error: unknown option '--jsn'"],
    [['status', 'extra'], "error: too many arguments for 'status'. Expected 0 arguments but got 1."],
    [['plan', '--target'], "error: option '--target <name...>' argument missing"],
  ])('%j is one line on stderr, exit 1', async (args, line) => {
    const r = await runCli(args, { cwd: project });
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: `${line}\n` });
  });

  it('--version is the package version; help for a command goes to stdout with exit 0', async () => {
    const pkg = JSON.parse(await readFile(path.resolve('package.json'), 'utf8')) as { version: string };
    expect(await runCli(['--version'], { cwd: project })).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    const viaHelp = await runCli(['help', 'status'], { cwd: project });
    const viaFlag = await runCli(['status', '--help'], { cwd: project });
    expect(viaHelp).toMatchObject({ code: 0, stderr: '' });
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
  });

  it('every exit code is in --help: all of them at the top, each command its own', async () => {
    const top = await runCli(['--help'], { cwd: project });
    expect(top.code).toBe(0);
    for (const code of ['0', '1', '2', '70', '130', '143']) expect(top.stdout).toMatch(new RegExp(`^ {2}${code} +\\S`, 'm'));
    for (const cmd of COMMANDS) {
      const r = await runCli([cmd, '--help'], { cwd: project });
      expect(r.code).toBe(0);
      expect(r.stdout, cmd).toMatch(/Exit(?: codes)?: 0 /);
    }
  });
});
