import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseCapabilities, widenCapabilities, modelCapabilities, shippedCapabilities } from '../../src/manifest/capabilities.js';
import { dependencyOrder } from '../../src/manifest/dependency-order.js';
import { closestMatch, editDistance } from '../../src/manifest/did-you-mean.js';
import { checkProjectPath } from '../../src/manifest/path-safety.js';
import { unsafeNameReason } from '../../src/manifest/safe-name.js';
import { schemaModeline } from '../../src/manifest/schema-modeline.js';
import { withGitignoreEntry } from '../../src/manifest/starter-manifest.js';

describe('did you mean', () => {
  it('measures edit distance with a cut-off', () => {
    expect(editDistance('promt', 'prompt', 3)).toBe(1);
    expect(editDistance('kitten', 'sitting', 3)).toBe(3);
    expect(editDistance('a', 'abcdefgh', 2)).toBe(3);
  });
  it('counts a swap of two neighbouring letters as one typo', () => {
    expect(editDistance('modle', 'model', 3)).toBe(1);
    expect(editDistance('szie', 'size', 3)).toBe(1);
    expect(editDistance('ab', 'ba', 3)).toBe(1);
    expect(editDistance('abcdef', 'badcfe', 1)).toBe(2);
    expect(closestMatch('modle', ['model', 'size', 'seconds', 'assets'])).toBe('model');
    expect(closestMatch('sceonds', ['model', 'size', 'seconds', 'assets'])).toBe('seconds');
  });
  it('suggests only close names', () => {
    expect(closestMatch('promt', ['prompt', 'model', 'size'])).toBe('prompt');
    expect(closestMatch('Seconds', ['seconds', 'size'])).toBe('seconds');
    expect(closestMatch('xyz', ['prompt', 'model'])).toBeUndefined();
  });
});

describe('safe names', () => {
  it.each([
    ['intro', undefined],
    ['intro_night-2.v1', undefined],
    ['a/b', 'must not contain path separators'],
    ['.hidden', 'would be a hidden file'],
    ['-flag', "must use only letters, digits, '.', '_' and '-', starting with a letter or digit"],
    ['nul', 'is a reserved file name on Windows (NUL)'],
    ['Com1.mp4', 'is a reserved file name on Windows (COM1)'],
    ['end.', 'must not end with a dot (Windows drops it)'],
    ['x'.repeat(65), 'is longer than 64 characters'],
  ])('%s', (name, reason) => {
    expect(unsafeNameReason(name)).toBe(reason);
  });
});

describe('project paths', () => {
  it.each([
    ['refs/a.png', 'refs/a.png'],
    ['./refs//a.png', 'refs/a.png'],
    ['refs/../b.png', 'b.png'],
    ['renders/', 'renders'],
    ['.', '.'],
  ])('accepts %s as %s', (raw, normalized) => {
    expect(checkProjectPath(raw)).toEqual({ ok: true, path: normalized });
  });
  it.each([
    ['../a.png', 'escapes the project directory'],
    ['a/../../b', 'escapes the project directory'],
    ['/etc/passwd', 'is absolute; use a path relative to the manifest'],
    ['C:/x.mp4', 'is a Windows drive path; use a path relative to the manifest'],
    ['refs\\a.png', "uses backslashes; write paths with '/'"],
    ['~/a.png', "starts with '~', which is not expanded; use a path relative to the manifest"],
    ['a\nb', 'contains control characters'],
  ])('refuses %s', (raw, reason) => {
    expect(checkProjectPath(raw)).toEqual({ ok: false, reason });
  });
});

describe('dependency order', () => {
  it('puts sources first and finds cycles once', () => {
    const sources: Record<string, string | undefined> = { a: 'b', b: undefined, c: 'd', d: 'e', e: 'c', f: 'c', g: 'a' };
    const r = dependencyOrder(Object.keys(sources), (n) => sources[n]);
    expect(r.order).toEqual(['b', 'a', 'g']);
    expect(r.cycles).toEqual([['c', 'd', 'e', 'c']]);
    expect([...r.blocked].sort()).toEqual(['f']);
  });
});

describe('capabilities', () => {
  it('ships sora-2 without the tall/wide pro sizes', () => {
    const caps = shippedCapabilities();
    expect(modelCapabilities(caps, 'sora-2')?.sizes).toEqual(['720x1280', '1280x720']);
    expect(modelCapabilities(caps, 'sora-2-pro')?.sizes).toContain('1792x1024');
    expect(modelCapabilities(caps, 'sora-2-pro-2025-10-06')).toBe(modelCapabilities(caps, 'sora-2-pro'));
    expect(modelCapabilities(caps, 'sora-3')).toBeUndefined();
  });
  it('widens but never narrows', () => {
    const base = parseCapabilities({
      defaults: { model: 'm', size: '1x1', seconds: 4 },
      models: { m: { sizes: ['1x1'], seconds: [4, 8] } },
      extension: { seconds: [4, 20], maxSecondsEach: 20, minSecondsEach: 1, maxCount: 6, maxTotalSeconds: 120 },
      characters: { maxPerVideo: 2, video: { minSeconds: 2, maxSeconds: 4, minShortSide: 720, maxShortSide: 1080, aspectRatios: ['16:9', '9:16'] } },
    });
    expect(base.characterVideo.aspectRatios).toEqual([[16, 9], [9, 16]]);
    const wide = widenCapabilities(base, { models: { m: { seconds: [16, 4] }, n: { sizes: ['2x2'] } }, extension: { maxCount: 8, seconds: [10, 4] } });
    expect(modelCapabilities(wide, 'm')).toEqual({ sizes: ['1x1'], seconds: [4, 8, 16] });
    expect(modelCapabilities(wide, 'n')).toEqual({ sizes: ['2x2'], seconds: [] });
    expect(wide.extension).toEqual({ seconds: [4, 10, 20], maxSecondsEach: 20, minSecondsEach: 1, maxCount: 8, maxTotalSeconds: 120 });
    expect(widenCapabilities(base, { extension: { maxCount: 8 } }).extension.seconds).toEqual([4, 20]);
    // A narrower limit leaves the table's (the semantic checks refuse it, with its place).
    const narrow = widenCapabilities(base, { extension: { minSecondsEach: 30, maxSecondsEach: 10, maxCount: 0, maxTotalSeconds: 60 }, maxCharactersPerVideo: 0 });
    expect(narrow.extension).toEqual(base.extension);
    expect(narrow.maxCharactersPerVideo).toBe(2);
    expect(widenCapabilities(base, { extension: { minSecondsEach: 0, maxSecondsEach: 30, maxTotalSeconds: 600 }, maxCharactersPerVideo: 4 })).toMatchObject({
      extension: { minSecondsEach: 0, maxSecondsEach: 30, maxCount: 6, maxTotalSeconds: 600 },
      maxCharactersPerVideo: 4,
    });
  });
  it('refuses a malformed table (a packaging bug)', () => {
    expect(() => parseCapabilities({ models: {} })).toThrow(/capabilities\.json/);
    const table = (video: unknown): unknown => ({ defaults: { model: 'm', size: '1x1', seconds: 4 }, models: {}, extension: { seconds: [], maxSecondsEach: 20, minSecondsEach: 1, maxCount: 6, maxTotalSeconds: 120 }, characters: { maxPerVideo: 2, video } });
    expect(() => parseCapabilities(table(undefined))).toThrow(/characters\.video/);
    expect(() => parseCapabilities(table({ minSeconds: 2, maxSeconds: 4, minShortSide: 720, maxShortSide: 1080, aspectRatios: ['wide'] }))).toThrow(/wide is not W:H/);
  });
});

describe('init helpers', () => {
  it('adds .vidbuild/ to .gitignore once', () => {
    expect(withGitignoreEntry(undefined)).toBe('.vidbuild/\n');
    expect(withGitignoreEntry('node_modules')).toBe('node_modules\n.vidbuild/\n');
    expect(withGitignoreEntry('dist/\n.vidbuild\n')).toBeUndefined();
    expect(withGitignoreEntry('/.vidbuild/\r\n')).toBeUndefined();
    for (const already of ['.vidbuild/*', '.vidbuild/**', '**/.vidbuild', '**/.vidbuild/', '  .vidbuild/  ']) {
      expect(withGitignoreEntry(`node_modules\n${already}\n`), already).toBeUndefined();
    }
    for (const notYet of ['.vidbuild/cache', '!.vidbuild', '# .vidbuild', 'vidbuild']) {
      expect(withGitignoreEntry(`${notYet}\n`), notYet).toBe(`${notYet}\n.vidbuild/\n`);
    }
    // A CRLF file gets a CRLF line.
    expect(withGitignoreEntry('node_modules\r\ndist')).toBe('node_modules\r\ndist\r\n.vidbuild/\r\n');
  });
});

describe('schema modeline of a new manifest', () => {
  /** A temp tree with these files (content irrelevant) and directories (ending in /). */
  async function tree(entries: readonly string[]): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-modeline-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    for (const e of entries) {
      await mkdir(path.join(dir, e.endsWith('/') ? e : path.dirname(e)), { recursive: true });
      if (!e.endsWith('/')) await writeFile(path.join(dir, e), '{}');
    }
    return dir;
  }
  const SCHEMA = 'schemas/videos.schema.json';

  it('points through node_modules of the manifest folder or of an ancestor up to the repository root', async () => {
    const dir = await tree(['.git/', 'package.json', `node_modules/vidbuild/${SCHEMA}`, 'site/clips/']);
    const schema = path.join(dir, 'node_modules/vidbuild', SCHEMA);
    expect(await schemaModeline(dir, schema, 'vidbuild')).toEqual({ ref: `./node_modules/vidbuild/${SCHEMA}`, note: undefined });
    expect(await schemaModeline(path.join(dir, 'site/clips'), schema, 'vidbuild')).toEqual({ ref: `../../node_modules/vidbuild/${SCHEMA}`, note: undefined });
  });

  it('goes through a node_modules symlink (npm link, pnpm) when it leads to the running copy', async () => {
    const pkg = await tree([SCHEMA]);
    const dir = await tree(['package.json', 'node_modules/']);
    await symlink(pkg, path.join(dir, 'node_modules/vidbuild'));
    expect(await schemaModeline(dir, path.join(pkg, SCHEMA), 'vidbuild')).toEqual({ ref: `./node_modules/vidbuild/${SCHEMA}`, note: undefined });
  });

  it('points at a schema inside the repository directly', async () => {
    const dir = await tree(['.git/', `tools/vidbuild/${SCHEMA}`, 'site/']);
    expect(await schemaModeline(path.join(dir, 'site'), path.join(dir, 'tools/vidbuild', SCHEMA), 'vidbuild')).toEqual({
      ref: `../tools/vidbuild/${SCHEMA}`,
      note: undefined,
    });
  });

  it('does not count a tool install inside a home folder kept in git as part of the repository', async () => {
    const home = await tree(['.git/', `.npm/_npx/1a2b/node_modules/vidbuild/${SCHEMA}`, 'work/film/']);
    const m = await schemaModeline(path.join(home, 'work/film'), path.join(home, '.npm/_npx/1a2b/node_modules/vidbuild', SCHEMA), 'vidbuild');
    expect(m.ref).toMatch(/^file:\/\//);
  });

  it('in a Node project running vidbuild from elsewhere: where a dev dependency would be, and says so', async () => {
    const pkg = await tree([SCHEMA]);
    const dir = await tree(['package.json', 'videos/']);
    const m = await schemaModeline(path.join(dir, 'videos'), path.join(pkg, SCHEMA), 'vidbuild');
    expect(m.ref).toBe(`../node_modules/vidbuild/${SCHEMA}`);
    expect(m.note).toBe('the schema modeline expects vidbuild in node_modules: `npm install --save-dev vidbuild` for editor completion');
  });

  it('outside any project: a file URL to this copy, with a note that it is machine-specific', async () => {
    const pkg = await tree([SCHEMA]);
    const dir = await tree([]);
    const m = await schemaModeline(dir, path.join(pkg, SCHEMA), 'vidbuild');
    expect(m.ref).toBe(`file://${path.join(pkg, SCHEMA)}`);
    expect(m.note).toMatch(/names this machine's copy of vidbuild/);
  });
});

describe('provider checks', () => {
  it('accepts the base URLs the SDK can use', async () => {
    const { baseUrlProblem } = await import('../../src/manifest/provider-checks.js');
    // A query is split off and sent with every request (Azure's ?api-version=).
    for (const ok of ['https://api.openai.com/v1', 'http://127.0.0.1:4010/v1', 'HTTPS://api.example.com/v1/', 'http://[::1]:8080', 'https://x/v1?a=1', 'https://x/v1?']) {
      expect(baseUrlProblem(ok), ok).toBeUndefined();
    }
    for (const bad of ['https://exa%mple.com', 'http://[::1', 'https://u:p@x/v1', 'https://x/v1#', 'https://x/v1?a=1#b', 'https://x/v1?key=abc', 'https://x/v1?api-version=1&access_token=t']) {
      expect(baseUrlProblem(bad), bad).toBeDefined();
    }
  });

  it('never repeats a password from a URL', async () => {
    const { redactUrl } = await import('../../src/manifest/provider-checks.js');
    expect(redactUrl('https://me:s3cr@t@host/v1')).toBe('https://***@host/v1');
    expect(redactUrl('https://host/v1?a=b@c')).toBe('https://host/v1?a=b@c');
  });
});
