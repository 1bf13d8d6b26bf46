import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPILED_SCHEMAS, GENERATED_DIR, schemaGuard, schemaSha256 } from '../../src/manifest/compiled-schemas.js';
import { packagePath } from '../../src/core/package-paths.js';

const requireHere = createRequire(import.meta.url);

describe('precompiled schema validators', () => {
  it('the build stamps each generated validator with the schema it came from', () => {
    for (const spec of Object.values(COMPILED_SCHEMAS)) {
      const generated = path.join(packagePath(...GENERATED_DIR), spec.moduleFile);
      const mod: unknown = requireHere(generated);
      const text = readFileSync(packagePath('schemas', spec.schemaFile), 'utf8');
      expect(typeof mod, generated).toBe('function');
      expect(Reflect.get(Object(mod), 'schemaSha256'), `${generated} is stale: run npm run build`).toBe(schemaSha256(text));
    }
  });

  it('accept and refuse like the schema', () => {
    const manifest = schemaGuard('manifest');
    expect(manifest({ version: 1, videos: { a: { prompt: 'x' } } })).toBe(true);
    expect(manifest({ version: 1, videos: { a: { promt: 'x' } } })).toBe(false);
    expect(manifest({ version: 2, videos: {} })).toBe(false);
    const lock = schemaGuard('lock');
    expect(lock({ lockfileVersion: 1, characters: {}, videos: {} })).toBe(true);
    expect(lock({ lockfileVersion: 1, characters: {}, videos: { a: {} } })).toBe(false);
  });
});
