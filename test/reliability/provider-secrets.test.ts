import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CANARY_KEY, filesContaining, runCli } from './run-cli.js';
import { startFakeProvider } from './fake-provider.js';
import { tempProject } from '../apply/rig.js';

/**
 * Issue 13 item 2: a provider that echoes the Authorization header in every
 * field it can (a failed job's error code and message, the prompt, headers).
 * Everything vidbuild stores or prints of it (lock, NDJSON, log, status,
 * status --json) must be free of the key: the scrubbing happens where the
 * provider's answer enters, so no later writer can forget it.
 */
describe('a provider that echoes the API key in every field', () => {
  it('the key is in no output and no file, however the answer is used', async () => {
    const fake = await startFakeProvider();
    const dir = await tempProject({ 'videos.yaml': 'version: 1\noutDir: out\ndefaults: { model: sora-2, size: 720x1280, seconds: 4 }\nvideos:\n  a: { prompt: A field. }\n' });
    const url = fake.url('echo');
    const runs = [
      await runCli(['apply', '--yes', '--base-url', url], { cwd: dir }),
      await runCli(['apply', '--yes', '--json', '--replace', 'a', '--base-url', url], { cwd: dir }),
      await runCli(['status', '--base-url', url], { cwd: dir }),
      await runCli(['status', '--json', '--base-url', url], { cwd: dir }),
      await runCli(['plan'], { cwd: dir }),
      await runCli(['prune', '--yes', '--base-url', url], { cwd: dir }),
    ];
    expect(fake.paid('echo')).toBeGreaterThan(0);
    // The failure was recorded (so the echoed fields did reach the lock), without the key.
    const lock = await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8');
    expect(lock).toMatch(/leak Bearer \*\*\*/);
    for (const r of runs) {
      expect(`${r.stdout}${r.stderr}`).not.toContain(CANARY_KEY);
      expect(`${r.stdout}${r.stderr}`).not.toContain(CANARY_KEY.slice(0, 12));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(await filesContaining(dir, CANARY_KEY.slice(0, 12))).toEqual([]);
  });
});

describe('the key in a URL or a committed value', () => {
  it('is scrubbed in its URL-encoded forms too (a provider echoing the request URL)', async () => {
    const { scrubSecret } = await import('../../src/backend/api-key.js');
    const key = 'Zm9vYmFy/YmF6cXV4+cXV1eA== sk';
    const echoed = `url=/v1/videos?tenant=${encodeURIComponent(key)}&b=${new URLSearchParams({ k: key }).toString().slice(2)} raw=${key}`;
    const clean = scrubSecret(echoed, key);
    expect(clean).toBe('url=/v1/videos?tenant=***&b=*** raw=***');
    for (const form of [key, encodeURIComponent(key)]) expect(clean).not.toContain(form.slice(0, 8));
  });

  it('refuses a run whose provider query or header value is the key, naming where and not the key', async () => {
    // A key that does not look like one (validate refuses the ones that do, in the manifest).
    const key = 'plainwordsecretvalue';
    const dir = await tempProject({ 'videos.yaml': `version: 1\nprovider: { baseURL: "http://127.0.0.1:9/v1", query: { tenant: "${key}" }, headers: { X-Team: "${key}" } }\nvideos:\n  a: { prompt: A field. }\n` });
    const r = await runCli(['apply', '--yes'], { cwd: dir, env: { OPENAI_API_KEY: key } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the provider's query parameter `tenant` (in the manifest or --base-url) holds the API key");
    expect(`${r.stdout}${r.stderr}`).not.toContain(key.slice(0, 8));
    const plain = await tempProject({ 'videos.yaml': 'version: 1\nvideos:\n  a: { prompt: A field. }\n' });
    const viaUrl = await runCli(['apply', '--yes', '--base-url', `http://127.0.0.1:9/v1?x=${key}`], { cwd: plain, env: { OPENAI_API_KEY: key } });
    expect(viaUrl.code).toBe(1);
    expect(viaUrl.stderr).toContain("the provider's query parameter `x`");
    expect(`${viaUrl.stdout}${viaUrl.stderr}`).not.toContain(key.slice(0, 8));
  });
});

describe("the SDK's own debug log (OPENAI_LOG=debug)", () => {
  it('goes to stderr, scrubbed: stdout stays one JSON document per line', async () => {
    const { emulator } = await import('../apply/rig.js');
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': 'version: 1\nvideos:\n  a: { prompt: A field. }\n' });
    const r = await runCli(['apply', '--yes', '--json', '--base-url', emu.baseURL], { cwd: dir, env: { OPENAI_LOG: 'debug' } });
    expect(r.code).toBe(0);
    for (const line of r.stdout.trim().split('\n')) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    expect(r.stderr).toContain('openai debug: ');
    expect(`${r.stdout}${r.stderr}`).not.toContain(CANARY_KEY.slice(0, 12));
  });
});
