import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { solidPng } from '../emulator/media.js';
import { CANARY_KEY, filesContaining, runCli, type CliRun } from './run-cli.js';

/**
 * Secrets campaign. With a recognisable fake key in OPENAI_API_KEY, every
 * command (successes, failures, --json, the SDK's own debug logging, a
 * provider that echoes the key back in its errors) runs against an emulator;
 * the key must appear in no stdout, no stderr and no file under the project
 * (lockfile, cache, outputs, emulator state). And a manifest cannot make
 * vidbuild read a file outside the project: no request ever carries it.
 */

const SECRET_FILE_CONTENT = 'PRIVATE-KEY-CANARY-0b5e2d7c';

let emulator: RunningEmulator;
let echo: http.Server;
let echoURL: string;
let root: string;
let project: string;
let outside: string;
const outputs: { readonly what: string; readonly run: CliRun }[] = [];

/** A provider that reflects the Authorization header in its error bodies and headers, as some proxies do. */
function startEchoServer(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    const body = JSON.stringify({
      error: { message: `Incorrect API key provided: ${auth.replace(/^Bearer\s+/i, '')}. You passed: ${auth}`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
    });
    res.writeHead(req.url?.includes('/content') === true ? 500 : 401, { 'content-type': 'application/json', 'x-echo-auth': auth });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function cli(what: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliRun> {
  const t0 = Date.now();
  const run = await runCli(args, { cwd: project, env });
  if (process.env.RELIABILITY_TRACE !== undefined) process.stderr.write(`[${Date.now() - t0} ms] ${what}: exit ${run.code}\n${run.stdout.slice(-400)}\n${run.stderr.slice(-600)}\n`);
  outputs.push({ what, run });
  expect(run.stdout, `${what}: stdout`).not.toContain(CANARY_KEY);
  expect(run.stderr, `${what}: stderr`).not.toContain(CANARY_KEY);
  // A truncated key is still a leak (SDKs print "sk-abc...xyz").
  expect(`${run.stdout}${run.stderr}`, `${what}: key prefix`).not.toContain(CANARY_KEY.slice(0, 24));
  expect(run.stderr, `${what}: no stack trace`).not.toMatch(/\n\s+at .+:\d+:\d+/);
  return run;
}

const manifest = (extra = ''): string =>
  [
    'version: 1',
    'defaults: { model: sora-2, size: 720x1280, seconds: 4 }',
    'videos:',
    '  a: { prompt: "A lighthouse", input_reference: refs/first.png, assets: [video, thumbnail] }',
    '  b: { remix: a, prompt: "At night" }',
    '  c: { prompt: "[[fail:moderation_blocked]] refused clip" }',
    '  d: { extend: c, prompt: "never runs", seconds: 4 }',
    extra,
  ].join('\n');

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-secrets-'));
  project = path.join(root, 'project');
  outside = path.join(root, 'outside');
  await mkdir(path.join(project, 'refs'), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(project, 'refs', 'first.png'), solidPng(720, 1280));
  await writeFile(path.join(project, 'videos.yaml'), manifest());
  await writeFile(path.join(outside, 'id_rsa'), SECRET_FILE_CONTENT);
  emulator = await startEmulator({ dir: path.join(root, 'emulator'), jobSeconds: 0.3, fps: 4 });
  echo = await startEchoServer();
  const address = echo.address();
  echoURL = `http://127.0.0.1:${typeof address === 'object' && address !== null ? (address satisfies AddressInfo).port : 0}/v1`;
});

afterAll(async () => {
  await emulator?.stop();
  await new Promise<void>((resolve) => (echo === undefined ? resolve() : echo.close(() => resolve())));
  echo?.closeAllConnections();
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

describe('the API key never leaves memory', () => {
  it('validate and plan (text and --json)', async () => {
    expect((await cli('validate', ['validate'])).code).toBe(0);
    expect((await cli('validate --json', ['validate', '--json'])).code).toBe(0);
    expect((await cli('plan', ['plan'])).code).toBe(0);
    expect((await cli('plan --json', ['plan', '--json'])).code).toBe(0);
  });

  it('apply with a failing target, in plain and --json output, with the SDK debug log on', async () => {
    const plain = await cli('apply', ['apply', '--base-url', emulator.baseURL, '--yes'], { OPENAI_LOG: 'debug', DEBUG: '*' });
    expect(plain.code).not.toBe(0);
    expect(plain.stdout + plain.stderr).toMatch(/moderation_blocked/);
    const json = await cli('apply --json', ['apply', '--base-url', emulator.baseURL, '--yes', '--json', '--replace', 'b'], { OPENAI_LOG: 'debug' });
    expect(json.stdout).toMatch(/"type":"job-failed"|"type":"run-finished"/);
  });

  it('status, pull and import', async () => {
    await cli('status', ['status', '--base-url', emulator.baseURL]);
    await cli('status --json', ['status', '--base-url', emulator.baseURL, '--json']);
    await cli('pull', ['pull', '--base-url', emulator.baseURL]);
    await cli('pull --json', ['pull', '--base-url', emulator.baseURL, '--json']);
    const lock: unknown = JSON.parse(await readFile(path.join(project, 'videos.lock'), 'utf8'));
    const jobId = JSON.stringify(lock).match(/video_[0-9a-f]+/)?.[0] ?? 'video_missing';
    await writeFile(path.join(project, 'videos.yaml'), manifest('  adopted: { prompt: "A lighthouse" }'));
    await cli('import', ['import', 'adopted', jobId, '--base-url', emulator.baseURL]);
    await cli('import of an unknown job', ['import', 'adopted', 'video_doesnotexist', '--base-url', emulator.baseURL]);
  });

  it('prune of an orphan', async () => {
    await writeFile(path.join(project, 'videos.yaml'), manifest().replace(/ {2}b: .*\n/, ''));
    await cli('prune', ['prune', '--base-url', emulator.baseURL, '--yes']);
    await writeFile(path.join(project, 'videos.yaml'), manifest());
  });

  it('a provider that echoes the key back in errors and headers', async () => {
    const r = await cli('apply against an echoing provider', ['apply', '--base-url', echoURL, '--yes', '--replace', 'a']);
    expect(r.code).not.toBe(0);
    await cli('apply --json against an echoing provider', ['apply', '--base-url', echoURL, '--yes', '--json', '--replace', 'a']);
    await cli('status against an echoing provider', ['status', '--base-url', echoURL]);
    await cli('import against an echoing provider', ['import', 'a', 'video_x', '--base-url', echoURL]);
  });

  it('connection refused and a malformed base URL', async () => {
    const refused = await cli('apply against a closed port', ['apply', '--base-url', 'http://127.0.0.1:9/v1', '--yes', '--replace', 'a']);
    expect(refused.code).toBe(1);
    expect(`${refused.stdout}${refused.stderr}`).toMatch(/could not connect to http:\/\/127\.0\.0\.1:9\/v1.*nothing was sent/);
    const malformed = await cli('apply with a malformed base URL', ['apply', '--base-url', 'not a url', '--yes', '--replace', 'a']);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain('--base-url is not a valid URL');
  });

  it('emulator start-up errors', async () => {
    const badFaults = await cli('emulator --faults garbage', ['emulator', '--faults', '{nope', '--dir', '.vidbuild/emu-err']);
    expect(badFaults.code).not.toBe(0);
    const busy = await cli('emulator on a port in use', ['emulator', '--port', String(emulator.port), '--dir', '.vidbuild/emu-err']);
    expect(busy.code).not.toBe(0);
  });

  it('the in-process emulator backend', async () => {
    await cli('apply --backend emulator', ['apply', '--backend', 'emulator', '--yes', '--target', 'a']);
  });

  it('leaves no trace of the key in any file under the project or in the emulator state', async () => {
    expect(await filesContaining(project, CANARY_KEY)).toEqual([]);
    expect(await filesContaining(project, CANARY_KEY.slice(0, 24))).toEqual([]);
    expect(await filesContaining(path.join(root, 'emulator'), CANARY_KEY)).toEqual([]);
    expect(outputs.length).toBeGreaterThan(14);
  });
});

describe('a manifest cannot read files outside the project', () => {
  it.each([
    { name: 'parent path', ref: '../outside/id_rsa' },
    { name: 'absolute path', ref: '' },
    { name: 'symlinked file', ref: 'refs/link.png' },
    { name: 'symlinked directory', ref: 'refs/out/id_rsa' },
  ])('input_reference via a $name is refused before any request', async ({ name, ref }) => {
    await symlink(path.join(outside, 'id_rsa'), path.join(project, 'refs', 'link.png')).catch(() => undefined);
    await symlink(outside, path.join(project, 'refs', 'out')).catch(() => undefined);
    const target = ref === '' ? path.join(outside, 'id_rsa') : ref;
    await writeFile(path.join(project, 'videos.yaml'), `version: 1\nvideos:\n  steal: { prompt: "x ${name}", input_reference: "${target}" }\n`);
    const before = emulator.stats();
    const r = await cli(`apply with input_reference ${name}`, ['apply', '--base-url', emulator.baseURL, '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/videos\.yaml:3:\d+: .*(outside|escape|absolute|relative)/i);
    expect(emulator.stats().requests).toEqual(before.requests);
    expect(await filesContaining(path.join(root, 'emulator'), SECRET_FILE_CONTENT)).toEqual([]);
  });

  it('edit of a file through a symlink and a character video outside are refused too', async () => {
    await writeFile(
      path.join(project, 'videos.yaml'),
      'version: 1\ncharacters:\n  m: { video: refs/out/id_rsa }\nvideos:\n  e: { edit: { file: refs/link.png }, prompt: x }\n  f: { prompt: "m waves", characters: [m] }\n',
    );
    const before = emulator.stats();
    const r = await cli('apply with outside edit/character files', ['apply', '--base-url', emulator.baseURL, '--yes']);
    expect(r.code).toBe(1);
    expect(emulator.stats().requests).toEqual(before.requests);
    expect(await filesContaining(path.join(root, 'emulator'), SECRET_FILE_CONTENT)).toEqual([]);
  });
});
