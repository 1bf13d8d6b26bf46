import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { loadManifest } from '../../src/manifest/load-manifest.js';
import { referencedFilesOf, type GenerateTarget, type Target } from '../../src/manifest/manifest.js';
import { fingerprintDocument, fingerprintTarget, fingerprintValue } from '../../src/plan/fingerprint.js';
import { canonicalJson } from '../../src/plan/canonical-json.js';
import { buildJobRequest } from '../../src/plan/job-request.js';

/**
 * `input_reference: { image_url }` / `{ file_id }` in the manifest (issue 12):
 * accepted without any file on disk, identified by the URL or id (and a
 * pinned sha256), and refused with one located line when malformed.
 */

async function load(reference: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-remote-ref-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'videos.yaml'), `version: 1\nvideos:\n  intro:\n    prompt: A lighthouse at dawn.\n    input_reference: ${reference}\n`);
  return loadManifest('videos.yaml', { cwd: dir });
}

async function intro(reference: string): Promise<GenerateTarget> {
  const r = await load(reference);
  if (!r.ok) throw new Error(r.error.map(formatDiagnostic).join('\n'));
  const t: Target | undefined = r.value.manifest.targets.values().next().value;
  if (t?.kind !== 'generate') throw new Error('expected a generated target');
  return t;
}

const SHA = 'a'.repeat(64);
const fp = (t: Target): string => fingerprintTarget(t, { files: [], characters: [] });

describe('input_reference as a URL or a file id', () => {
  it('loads with no file on disk, names no project file, and records the form as sent', async () => {
    const url = await intro('{ image_url: "https://cdn.example.com/refs/a.png" }');
    expect(url.inputReference).toEqual({ type: 'image_url', url: 'https://cdn.example.com/refs/a.png', sha256: undefined });
    expect(referencedFilesOf(url)).toEqual([]);
    expect(buildJobRequest(url, {}).inputReference).toEqual({ image_url: 'https://cdn.example.com/refs/a.png' });
    const id = await intro('{ file_id: file-abc123 }');
    expect(id.inputReference).toEqual({ type: 'file_id', fileId: 'file-abc123' });
    expect(buildJobRequest(id, {}).inputReference).toEqual({ file_id: 'file-abc123' });
    const block = await intro(`\n      image_url: https://cdn.example.com/a.png\n      sha256: ${SHA}`);
    expect(buildJobRequest(block, {}).inputReference).toEqual({ image_url: 'https://cdn.example.com/a.png', sha256: SHA });
  });

  it('http is accepted for a loopback host only', async () => {
    expect((await intro('{ image_url: "http://127.0.0.1:8080/a.png" }')).inputReference?.type).toBe('image_url');
    expect((await intro('{ image_url: "http://localhost/a.png" }')).inputReference?.type).toBe('image_url');
  });

  it('the fingerprint is the URL (and its pin) or the id; the local-file form keeps its fingerprint shape', async () => {
    const a = await intro('{ image_url: "https://cdn.example.com/a.png" }');
    const b = await intro('{ image_url: "https://cdn.example.com/b.png" }');
    const pinned = await intro(`{ image_url: "https://cdn.example.com/a.png", sha256: ${SHA} }`);
    const repinned = await intro(`{ image_url: "https://cdn.example.com/a.png", sha256: ${'b'.repeat(64)} }`);
    const id = await intro('{ file_id: file-abc123 }');
    const fps = [a, b, pinned, repinned, id].map(fp);
    expect(new Set(fps).size).toBe(5);
    expect(fp(await intro('{ image_url: "https://cdn.example.com/a.png" }'))).toBe(fps[0]);
    for (const t of [a, pinned, id]) {
      expect(fingerprintDocument(t, { files: [], characters: [] })).toBe(canonicalJson(fingerprintValue(t, { files: [], characters: [] })));
    }
    expect(JSON.stringify(fingerprintValue({ ...a, inputReference: undefined }, { files: [], characters: [] }))).not.toContain('reference');
  });

  it.each([
    { name: 'plain http', ref: '{ image_url: "http://cdn.example.com/a.png" }', says: 'must use https' },
    { name: 'a user and password', ref: '{ image_url: "https://me:secret@cdn.example.com/a.png" }', says: 'must not contain a user name or password' },
    { name: 'a presigned URL', ref: '{ image_url: "https://b.s3.amazonaws.com/a.png?X-Amz-Signature=abc" }', says: 'must not carry a credential' },
    { name: 'a token in the query', ref: '{ image_url: "https://cdn.example.com/a.png?token=abc" }', says: 'must not carry a credential' },
    { name: 'another scheme', ref: '{ image_url: "ftp://cdn.example.com/a.png" }', says: 'must be an https URL' },
    { name: 'a data URL', ref: '{ image_url: "data:image/png;base64,AAAA" }', says: 'must be an https URL' },
    { name: 'a URL too long', ref: `{ image_url: "https://cdn.example.com/${'a'.repeat(2100)}.png" }`, says: 'too long (at most 2048' },
    { name: 'a bad file id', ref: '{ file_id: "abc" }', says: "must be an uploaded file's id" },
    { name: 'a pin on a file id', ref: `{ file_id: file-abc, sha256: ${SHA} }`, says: 'unknown key `sha256`' },
    { name: 'a bad pin', ref: '{ image_url: "https://cdn.example.com/a.png", sha256: ABC }', says: '64 lowercase hex digits' },
    { name: 'both forms', ref: '{ image_url: "https://cdn.example.com/a.png", file_id: file-abc }', says: 'give only one of `image_url` or `file_id`' },
    { name: 'neither form', ref: '{ url: "https://cdn.example.com/a.png" }', says: 'must be a path to a local image, { image_url: https://... } or { file_id: file-... }' },
  ])('refuses $name with one located line', async ({ ref, says }) => {
    const r = await load(ref);
    if (r.ok) throw new Error('expected a refusal');
    const lines = r.error.map(formatDiagnostic);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/videos\.yaml:5:\d+: /);
    expect(lines[0]).toContain(says);
    expect(lines[0]).not.toContain('secret');
  });
});
