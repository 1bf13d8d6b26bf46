import { describe, expect, it } from 'vitest';
import { renderWordDiff, wordDiff } from '../../src/plan/word-diff.js';

const plain = { removed: (s: string) => s, added: (s: string) => s };

describe('word diff of prompts', () => {
  it('marks changed words as git --word-diff does, and each side joins back exactly', () => {
    const from = 'A field at dusk, with  two\nhorses.';
    const to = 'A wide field at night, with two horses.';
    const parts = wordDiff(from, to);
    const words = (x: string) => x.split(/\s+/).filter((w) => w !== '');
    expect(words(parts.filter((p) => p.op !== 'added').map((p) => p.text).join(''))).toEqual(words(from));
    expect(parts.filter((p) => p.op !== 'removed').map((p) => p.text).join('')).toBe(to);
    expect(renderWordDiff(parts, plain)).toBe('A {+wide+} field at [-dusk,-]{+night,+} with two horses.');
  });

  it('keeps a few words of context around a change in a long prompt, on one line, with control characters escaped', () => {
    const base = Array.from({ length: 40 }, (_, i) => `w${i}`);
    const to = [...base];
    to[20] = 'CHANGED\u001b[31m';
    const shown = renderWordDiff(wordDiff(base.join(' '), to.join('\n')), plain);
    expect(shown).toBe('… w14 w15 w16 w17 w18 w19 [-w20-]{+CHANGED\\x1b[31m+} w21 w22 w23 w24 w25 w26 …');
  });

  it('says when only spacing changed, which the fingerprint sees but words do not', () => {
    expect(renderWordDiff(wordDiff('A  field.', 'A field.'), plain)).toBe('(only spacing or line breaks changed)');
  });

  it('falls back to removed-then-added for prompts too long to compare word by word', () => {
    const a = Array.from({ length: 1100 }, (_, i) => `a${i}`).join(' ');
    const b = Array.from({ length: 1100 }, (_, i) => `b${i}`).join(' ');
    expect(wordDiff(a, b)).toEqual([
      { op: 'removed', text: a },
      { op: 'added', text: b },
    ]);
  });
});
