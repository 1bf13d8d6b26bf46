import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv, emulator, readLock, tempProject, vidbuild } from './rig.js';

/**
 * A provider that is not OpenAI's host, configured as Azure OpenAI is: the key
 * in an `api-key` header (and not as a Bearer token), `api-version` on every
 * request. The emulator is started requiring both, so a client that sends the
 * key the OpenAI way, or forgets the query, fails here as it would there.
 */
const AZURE_KEY = 'azure-canary-key-5f0c2a9d7e1b4c83a6f2';

function manifest(provider: string): string {
  return `version: 1
defaults: { model: sora-2, size: 720x1280, seconds: 4 }
outDir: out
provider:
${provider}
videos:
  intro: { prompt: A lighthouse at dawn. }
`;
}

async function everything(dir: string): Promise<string> {
  const parts: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && !p.endsWith('.mp4') && !p.endsWith('.webp') && !p.endsWith('.jpg')) parts.push(await fsp.readFile(p, 'utf8'));
    }
  };
  await walk(dir);
  return parts.join('\n');
}

describe('an Azure OpenAI style provider (api-key header, api-version query)', () => {
  const env = cliEnv({ AZURE_OPENAI_API_KEY: AZURE_KEY });

  it('apply sends the key only in api-key and api-version on every request; the key is printed and stored nowhere', async () => {
    const emu = await emulator({ apiKeyHeader: 'api-key', requireQuery: { 'api-version': 'preview' } });
    for (const provider of [
      `  baseURL: ${emu.baseURL}?api-version=preview\n  apiKeyEnv: AZURE_OPENAI_API_KEY\n  apiKeyHeader: api-key\n  headers: { x-ms-useragent: vidbuild-test }`,
      `  baseURL: ${emu.baseURL}\n  apiKeyEnv: AZURE_OPENAI_API_KEY\n  apiKeyHeader: api-key\n  query: { api-version: preview }`,
    ]) {
      const dir = await tempProject({ 'videos.yaml': manifest(provider) });
      expect((await vidbuild(['validate'], dir, env)).code).toBe(0);
      const r = await vidbuild(['apply', '--yes'], dir, env);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect((await readLock(dir)).videos['intro']?.job.jobId).toMatch(/^video_/);
      const status = await vidbuild(['status'], dir, env);
      expect(status.code).toBe(0);
      expect(`${r.stdout}${status.stdout}${status.stderr}${await everything(dir)}`).not.toContain(AZURE_KEY);
      expect((await vidbuild(['plan', '--detailed-exitcode'], dir, env)).code).toBe(0);
    }
  });

  it('the same provider without api-key or without api-version is refused by the server, in one line without the key', async () => {
    const emu = await emulator({ apiKeyHeader: 'api-key', requireQuery: { 'api-version': 'preview' } });
    const bearer = await tempProject({ 'videos.yaml': manifest(`  baseURL: ${emu.baseURL}?api-version=preview\n  apiKeyEnv: AZURE_OPENAI_API_KEY`) });
    const noKey = await vidbuild(['apply', '--yes'], bearer, env);
    expect(noKey.code).toBe(1);
    expect(noKey.stdout).toMatch(/missing subscription key.*'api-key' header/);
    const noQuery = await tempProject({ 'videos.yaml': manifest(`  baseURL: ${emu.baseURL}\n  apiKeyEnv: AZURE_OPENAI_API_KEY\n  apiKeyHeader: api-key`) });
    const r = await vidbuild(['apply', '--yes'], noQuery, env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Missing required query parameter: 'api-version'/);
    expect(`${noKey.stdout}${noKey.stderr}${r.stdout}${r.stderr}`).not.toContain(AZURE_KEY);
    expect(`${noKey.stdout}${r.stdout}`).not.toMatch(/\n\s+at /);
  });

  it('validate refuses a credential in provider.headers and a parameter given twice, with their locations', async () => {
    const dir = await tempProject({
      'videos.yaml': manifest(
        '  baseURL: https://example.openai.azure.com/openai/v1?api-version=preview\n  apiKeyEnv: AZURE_OPENAI_API_KEY\n  headers:\n    Authorization: Bearer x\n    x-trace: sk-live-0123456789abcdefABCDEF0123456789\n    "bad header": x\n  query: { api-version: "2025-04-01" }',
      ),
    });
    const r = await vidbuild(['validate'], dir, env);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^videos\.yaml:8:5: header `Authorization` carries a credential, and the manifest is committed: put the key in an environment variable/),
      expect.stringMatching(/^videos\.yaml:9:5: header `x-trace` looks like a secret/),
      expect.stringMatching(/^videos\.yaml:10:5: /),
      expect.stringMatching(/^videos\.yaml:11:12: query parameter `api-version` is also in `baseURL`; give it in one place$/),
    ]);
    expect(r.stderr).not.toContain('sk-live-0123456789');
  });
});
