import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveApiKey } from '../../src/backend/api-key.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { describeCycle } from '../../src/manifest/semantic-checks.js';
import { readLock, renderCacheDir } from '../apply/rig.js';
import { startFakeProvider } from './fake-provider.js';
import { CANARY_KEY, runCli, tempDir, type CliRun } from './run-cli.js';

/**
 * Errors, not crashes (issue 13 item 14): inputs that passed validate and
 * failed after paying, answers of a provider that became a TypeError or a
 * 17-byte "video", a key that was retried for a minute, a 189 KB error line,
 * YAML tags read as if absent. Each is now one line, before anything is
 * paid where it can be, through the real CLI.
 */

let emulator: RunningEmulator;
let emuDir: string;

beforeAll(async () => {
  emuDir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-errors-emu-'));
  emulator = await startEmulator({ dir: emuDir, port: 0, jobSeconds: 0.2, fps: 4, renderCacheDir });
});
afterAll(async () => {
  await emulator?.stop();
  if (emuDir !== undefined) await rm(emuDir, { recursive: true, force: true });
});

const ONE = 'version: 1\ndefaults: { model: sora-2, size: 720x1280, seconds: 4 }\nvideos:\n  a: { prompt: "A lighthouse at dawn" }\n';

async function project(files: Readonly<Record<string, string>>): Promise<string> {
  const dir = await tempDir('vidbuild-errors-');
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  }
  return dir;
}

const paidCalls = (): number => emulator.stats().requests['POST /videos'] ?? 0;

function expectNoCrash(r: CliRun): void {
  expect(r.stdout + r.stderr).not.toMatch(/internal error|TypeError|Cannot read properties|\n\s+at .+:\d+:\d+/);
}

describe('outDir that can never be a folder is refused by validate, before anything is paid', () => {
  it.each([
    ['the lockfile', 'videos.lock', {}, "videos.yaml:2:9: `outDir` videos.lock is this manifest's lockfile; outputs need a folder (e.g. outDir: videos)"],
    ['inside the lockfile', 'videos.lock/renders', {}, "videos.yaml:2:9: `outDir` videos.lock/renders is inside this manifest's lockfile videos.lock; outputs need a folder (e.g. outDir: videos)"],
    ['under a file', 'notes.txt/renders', { 'notes.txt': 'mine' }, 'videos.yaml:2:9: `outDir` notes.txt/renders: notes.txt is a file, not a directory'],
  ])('outDir: %s', async (_name, outDir, extra, line) => {
    const dir = await project({ 'videos.yaml': ONE.replace('version: 1\n', `version: 1\noutDir: ${outDir}\n`), ...extra });
    const before = paidCalls();
    const validated = await runCli(['validate'], { cwd: dir });
    expect(validated.stderr).toBe(`${line}\n`);
    expect(validated.code).toBe(1);
    const applied = await runCli(['apply', '--yes', '--base-url', emulator.baseURL], { cwd: dir });
    expect(applied.stderr).toBe(`${line}\n`);
    expect(applied.code).toBe(1);
    expect(paidCalls()).toBe(before);
    expect(existsSync(path.join(dir, 'videos.lock'))).toBe(false);
  });
});

describe('a provider that answers oddly', () => {
  it('a create answered without an id: one clear line, never sent again, the intent kept for the next run', async () => {
    const fake = await startFakeProvider();
    const dir = await project({ 'videos.yaml': ONE });
    const r = await runCli(['apply', '--yes', '--base-url', fake.url('noid')], { cwd: dir, timeoutMs: 30_000 });
    expectNoCrash(r);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ a: failed: no-job-id: the API returned a job with no id; it may have been created, so it is not sent again: the request stays in videos\.lock and the next run looks for the job first\n/);
    expect(fake.paid('noid')).toBe(1);
    expect((await readLock(dir)).videos['a']?.job.state).toBe('intent');
  });

  it('a "video" that is not an MP4: the target fails naming it, nothing in the output folder or the cache', async () => {
    const fake = await startFakeProvider();
    const dir = await project({ 'videos.yaml': ONE });
    const r = await runCli(['apply', '--yes', '--base-url', fake.url('junk')], { cwd: dir, timeoutMs: 30_000 });
    expectNoCrash(r);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ a: failed \(job video_junk_1\): not-media: the video of job video_junk_1 is not an MP4 \(it does not start with an ftyp box\); nothing was saved\n/);
    expect(existsSync(path.join(dir, 'videos', 'a.mp4'))).toBe(false);
    const cached = await readdir(path.join(dir, '.vidbuild', 'cache', 'objects'), { recursive: true }).catch(() => []);
    expect(cached).toEqual([]);
    // The job is paid for and kept: the next run downloads again (never creates again).
    const entry = (await readLock(dir)).videos['a'];
    expect(entry?.job).toMatchObject({ state: 'job', jobId: 'video_junk_1' });
    expect(entry?.assets).toEqual({});
  });
});

describe('an API key that cannot be sent is refused at start, naming the variable, never the key', () => {
  it.each([
    ['a control character', `sk-abc\x01${CANARY_KEY}`, /^OPENAI_API_KEY contains a control character \(\\x01, character 7 of \d+\), which no API key has \(keys are printable ASCII\): set it again$/],
    ['a line break inside', `${CANARY_KEY}\nsk-second`, /^OPENAI_API_KEY contains a line break \(character \d+ of \d+\), which no API key has/],
    ['a non-ASCII character', `sk-tést-${CANARY_KEY}`, /^OPENAI_API_KEY contains a non-ASCII character \(character 5 of \d+\), which no API key has/],
  ])('%s', async (_name, key, line) => {
    const dir = await project({ 'videos.yaml': ONE });
    const before = emulator.stats().requests;
    const r = await runCli(['apply', '--yes', '--base-url', emulator.baseURL], { cwd: dir, env: { OPENAI_API_KEY: key }, timeoutMs: 15_000 });
    expect(r.stderr.trim()).toMatch(line);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toContain(CANARY_KEY.slice(3));
    expect(emulator.stats().requests).toEqual(before);
  });

  it('names the variable the manifest says holds the key (provider.apiKeyEnv), for watch as for apply', async () => {
    const dir = await project({ 'videos.yaml': ONE.replace('version: 1\n', `version: 1\nprovider: { apiKeyEnv: STUDIO_KEY }\n`) });
    for (const args of [['apply', '--yes'], ['watch', '--yes']]) {
      const r = await runCli([...args, '--base-url', emulator.baseURL], { cwd: dir, env: { STUDIO_KEY: `sk-\x7f${CANARY_KEY}` }, timeoutMs: 15_000 });
      expect(r.stderr.trim()).toBe(`STUDIO_KEY contains a control character (\\x7f, character 4 of ${CANARY_KEY.length + 4}), which no API key has (keys are printable ASCII): set it again`);
      expect(r.code).toBe(1);
    }
  });

  it.each([
    ['sk-plain-0123', undefined],
    ['  sk-padded \n', undefined],
    ['sk-\x00x', 'a control character (\\x00, character 4 of 5)'],
    ['sk-\u202ex', 'a non-ASCII character (character 4 of 5)'],
  ])('resolveApiKey(%j)', (value, problem) => {
    const r = resolveApiKey({ OPENAI_API_KEY: value }, undefined);
    if (problem === undefined) expect(r).toEqual({ ok: true, value: value.trim() });
    else expect(r.ok ? '' : r.error.message).toContain(`OPENAI_API_KEY contains ${problem}`);
  });
});

describe('a cycle through thousands of targets is one short line', () => {
  it('validate names the first ten and counts the rest', async () => {
    const n = 20_000;
    let text = 'version: 1\nvideos:\n';
    for (let i = 0; i < n; i++) text += `  t${i}: { remix: t${(i + 1) % n}, prompt: p${i} }\n`;
    const dir = await project({ 'videos.yaml': text });
    const r = await runCli(['validate'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'videos.yaml:3:16: cycle of 20000 targets: t0 -> t1 -> t2 -> t3 -> t4 -> t5 -> t6 -> t7 -> t8 -> t9 -> … and 19990 more -> t0 (each derives from the next)\n',
    );
  });

  it('a short cycle is written out whole', () => {
    expect(describeCycle(['a', 'b', 'a'])).toBe('cycle: a -> b -> a (each derives from the next)');
    const ten = [...Array.from({ length: 10 }, (_, i) => `t${i}`), 't0'];
    expect(describeCycle(ten)).toBe(`cycle: ${ten.join(' -> ')} (each derives from the next)`);
    expect(describeCycle([...ten.slice(0, -1), 't10', 't0'])).toMatch(/^cycle of 11 targets: t0 -> .* -> t9 -> … and 1 more -> t0 /);
  });
});

describe('YAML tags are refused at the tag, not read as if absent', () => {
  it.each([
    ['a local tag', '    prompt: !foo A lighthouse\n', 'videos.yaml:5:13: unsupported YAML tag `!foo`'],
    ['a language tag', '    prompt: !!python/object:os.system A lighthouse\n', 'videos.yaml:5:13: unsupported YAML tag `!!python/object:os.system`'],
    ['a binary tag', '    prompt: !!binary aGk=\n', 'videos.yaml:5:13: unsupported YAML tag `!!binary`'],
    ['a tag in a flow list', '    prompt: A lighthouse\n    assets: [video, !x thumbnail]\n', 'videos.yaml:6:21: unsupported YAML tag `!x`'],
    ['a tag on a key', '    !k prompt: A lighthouse\n', 'videos.yaml:5:5: unsupported YAML tag `!k`'],
  ])('%s', async (_name, lines, start) => {
    const dir = await project({ 'videos.yaml': `version: 1\nvideos:\n  a: { prompt: A harbour }\n  b:\n${lines}` });
    const r = await runCli(['validate'], { cwd: dir });
    expect(r.stderr).toBe(`${start}: a manifest holds plain text, numbers, lists and maps (quote a value that starts with \`!\`)\n`);
    expect(r.code).toBe(1);
  });

  it('the core schema tags that only restate a plain value are fine', async () => {
    const dir = await project({ 'videos.yaml': 'version: !!int 1\nvideos:\n  a: { prompt: !!str 1984, seconds: !!int "4" }\n' });
    const r = await runCli(['validate'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
