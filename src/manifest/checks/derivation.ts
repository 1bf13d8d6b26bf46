import type { RawSource, RawVideo } from '../raw-manifest.js';

/** The ways a target can start from an existing video instead of generating one. */
export type DerivedKind = 'remix' | 'extend' | 'edit';

export interface Derivation {
  readonly kind: DerivedKind;
  readonly source: RawSource;
}

export function derivation(v: RawVideo): Derivation | undefined {
  if (v.remix !== undefined) return { kind: 'remix', source: v.remix };
  if (v.extend !== undefined) return { kind: 'extend', source: v.extend };
  if (v.edit !== undefined) return { kind: 'edit', source: v.edit };
  return undefined;
}

export function verb(kind: DerivedKind): string {
  switch (kind) {
    case 'remix':
      return 'remix';
    case 'extend':
      return 'extend';
    case 'edit':
      return 'edit';
  }
}

export function article(kind: DerivedKind): string {
  return kind === 'extend' ? 'an extension' : kind === 'edit' ? 'an edit' : 'a remix';
}
