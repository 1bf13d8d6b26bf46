import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../reliability/run-cli.js';

/**
 * Command-line values are parsed strictly: `2.5` is not a concurrency and
 * `5abc` not a budget. A refused value is one line naming the option, exit 1,
 * and nothing is done (no lock, no outputs, no emulator state).
 */
let project: string;

beforeAll(async () => {
  project = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-options-'));
  await writeFile(path.join(project, 'videos.yaml'), 'version: 1\nvideos:\n  a: { prompt: "A lighthouse." }\n');
});
afterAll(() => rm(project, { recursive: true, force: true }));

describe('option values', () => {
  it.each([
    [['apply', '--backend', 'emulator', '--concurrency', '2.5'], "option '--concurrency <n>' argument '2.5' is invalid. expected a whole number 1 or more"],
    [['apply', '--backend', 'emulator', '--concurrency', '0'], "option '--concurrency <n>' argument '0' is invalid"],
    [['apply', '--backend', 'emulator', '--download-concurrency', 'two'], "option '--download-concurrency <n>' argument 'two' is invalid"],
    [['apply', '--backend', 'emulator', '--max-cost', '5abc'], "option '--max-cost <usd>' argument '5abc' is invalid. expected an amount in USD"],
    [['apply', '--backend', 'emulator', '--max-cost', '-1'], "option '--max-cost <usd>' argument '-1' is invalid"],
    [['apply', '--base-url', 'not a url', '--yes'], '--base-url is not a valid URL (got "not a url"; expected e.g. https://api.example.com/v1)'],
    [['status', '--base-url', 'ftp://example.com/v1'], '--base-url must be an http(s) URL (got ftp:'],
    [['pull', '--base-url', 'https://api.example.com/v1?key=1'], '--base-url must not carry a credential in its query (`key`)'],
    [['watch', '--backend', 'emulator', '--port', '99999'], "option '--port <n>' argument '99999' is invalid. expected a whole number from 0 to 65535"],
    [['emulator', '--rpm', '1e3'], "option '--rpm <n>' argument '1e3' is invalid"],
    [['emulator', '--job-seconds', 'fast'], "option '--job-seconds <s>' argument 'fast' is invalid. expected seconds"],
  ])('%j is refused in one line', async (args, message) => {
    const r = await runCli(args, { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(r.stdout).toBe('');
    expect((await readdir(project)).sort()).toEqual(['videos.yaml']);
  });

  it('never echoes a password given in --base-url', async () => {
    const r = await runCli(['apply', '--base-url', 'https://user:hunter2pw@api.example.com/v1', '--yes'], { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(['--base-url must not contain a user name or password; set `apiKeyEnv` to the environment variable that holds the key']);
    expect(r.stdout + r.stderr).not.toContain('hunter2pw');
  });

  it('a malformed OPENAI_BASE_URL is one line naming the variable, and nothing is sent', async () => {
    const r = await runCli(['apply', '--yes'], { cwd: project, env: { OPENAI_BASE_URL: 'not a url' } });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('OPENAI_BASE_URL is not a valid URL (got "not a url"; expected e.g. https://api.example.com/v1)');
    expect(r.stdout).not.toMatch(/created|failed/);
  });

  it('accepts what the help text promises: a budget with a dollar sign or decimals', async () => {
    const r = await runCli(['apply', '--backend', 'emulator', '--max-cost', '$0.10'], { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/above --max-cost \$0\.10; nothing was done/);
  });
});
