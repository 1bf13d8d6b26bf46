import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderManifestReference } from '../../src/manifest/schema-reference.js';
import { SCHEMA_FILE } from '../../src/manifest/schema-validate.js';

describe('docs/manifest-reference.md', () => {
  const schema: unknown = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));

  it('is generated from the schema (run `npx vitest run test/manifest -u` after changing it)', async () => {
    await expect(renderManifestReference(schema)).toMatchFileSnapshot('../../docs/manifest-reference.md');
  });

  it('documents every field of the schema', () => {
    const missing: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (typeof node !== 'object' || node === null) return;
      for (const [k, v] of Object.entries(node)) {
        if (k === 'properties' && typeof v === 'object' && v !== null) {
          for (const [name, child] of Object.entries(v)) {
            const c: unknown = child;
            if (typeof c === 'boolean') continue; // `false` in dependentSchemas forbids a key
            const described = typeof c === 'object' && c !== null && 'description' in c;
            const ref = typeof c === 'object' && c !== null && '$ref' in c;
            if (!described && !ref) missing.push(`${at}.${name}`);
          }
        }
        walk(v, `${at}.${k}`);
      }
    };
    walk(schema, '#');
    expect(missing).toEqual([]);
  });
});
