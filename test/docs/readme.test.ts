import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderManifestReference } from '../../src/manifest/schema-reference.js';
import { SCHEMA_FILE } from '../../src/manifest/schema-validate.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const START = '<!-- manifest-reference:start -->';
const END = '<!-- manifest-reference:end -->';

/** The reference as the README embeds it: the generated page without its title line. */
function readmeReferenceBlock(): string {
  const schema: unknown = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
  return renderManifestReference(schema).split('\n').slice(1).join('\n').trim();
}

describe('README.md', () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

  it('embeds the manifest reference generated from the schema (run `node test/docs/sync-readme.mjs` after changing it)', () => {
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    expect(readme.slice(start + START.length, end).trim()).toBe(readmeReferenceBlock());
  });

  it('starts with the offline quickstart and npm test', () => {
    const fence = readme.indexOf('```sh\n');
    const block = readme.slice(fence, readme.indexOf('```\n', fence + 6));
    const lines = block.split('\n').slice(1).filter((l) => l.trim() !== '');
    expect(lines[0]).toBe('npm install && npx vidbuild apply --backend emulator -f examples/quickstart/videos.yaml');
    expect(lines[1]).toBe('npm test');
  });
});
