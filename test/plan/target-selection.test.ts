import { describe, expect, it } from 'vitest';
import { unknownTargetNames } from '../../src/plan/target-selection.js';
import { buildManifest } from './build-manifest.js';

describe('unknownTargetNames', () => {
  const manifest = buildManifest([{ name: 'a' }, { name: 'intro' }, { name: 'intro_night' }]);

  it('suggests the target a typo was meant to be', () => {
    expect(unknownTargetNames(manifest, ['intro_nite', 'intr'])).toEqual([
      { name: 'intro_nite', suggestion: 'intro_night' },
      { name: 'intr', suggestion: 'intro' },
    ]);
  });

  it('suggests nothing when the name would have to be rewritten (zz is not a)', () => {
    expect(unknownTargetNames(manifest, ['zz', 'b'])).toEqual([
      { name: 'zz', suggestion: undefined },
      { name: 'b', suggestion: undefined },
    ]);
  });

  it('knows the names it has', () => {
    expect(unknownTargetNames(manifest, ['a', 'intro'])).toEqual([]);
  });
});
