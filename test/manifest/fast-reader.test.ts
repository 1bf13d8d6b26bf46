import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { parseManifestFast } from '../../src/manifest/yaml/fast-reader.js';
import { parseManifestYaml } from '../../src/manifest/yaml/parse-yaml.js';
import type { ManifestLocator, PathSegment } from '../../src/manifest/locator.js';
import { YamlLocator } from '../../src/manifest/yaml/yaml-locations.js';

/**
 * The fast reader is a shortcut around the `yaml` package: whenever it
 * accepts a text, it must give exactly the data and positions the full
 * parser gives, and it must never accept a text the full parser refuses.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function full(text: string): { ok: true; data: unknown; locator: YamlLocator } | { ok: false } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false, keepSourceTokens: false, logLevel: 'silent' });
  if (doc.errors.length > 0) return { ok: false };
  try {
    return { ok: true, data: doc.toJS({ maxAliasCount: 100 }), locator: new YamlLocator('m.yaml', doc, lines) };
  } catch {
    return { ok: false }; // an unresolved alias
  }
}

/** Every path into the data (map keys and list indexes), plus a few that do not exist. */
function paths(data: unknown, prefix: PathSegment[] = [], out: PathSegment[][] = []): PathSegment[][] {
  out.push(prefix);
  if (Array.isArray(data)) {
    data.forEach((item, i) => paths(item, [...prefix, i], out));
    out.push([...prefix, data.length]);
  } else if (typeof data === 'object' && data !== null) {
    for (const [k, v] of Object.entries(data)) paths(v, [...prefix, k], out);
    out.push([...prefix, 'no_such_key']);
  } else if (data !== null) {
    out.push([...prefix, 'below_a_scalar']);
  }
  return out;
}

function isEmptyValue(data: unknown, p: readonly PathSegment[]): boolean {
  let node: unknown = data;
  for (const s of p) {
    if (typeof node !== 'object' || node === null) return false;
    node = Reflect.get(node, s);
  }
  return node === null;
}

/** Same structure, key order, prototypes and values (vitest's equality trips over a `constructor` key). */
function sameData(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => {
    const da = Object.getOwnPropertyDescriptor(a, k);
    const db = Object.getOwnPropertyDescriptor(b, k);
    return da?.enumerable === db?.enumerable && da?.writable === db?.writable && sameData(da?.value, db?.value);
  });
}

/** Undefined when the fast reader declines; otherwise throws on any difference. */
function compare(text: string): 'fast' | 'declined' {
  const fast = parseManifestFast(text, 'm.yaml');
  const ref = full(text);
  if (fast === undefined) return 'declined';
  expect(ref.ok, `fast reader accepted YAML the full parser refuses:\n${text}`).toBe(true);
  if (!ref.ok) return 'fast';
  expect(sameData(fast.data, ref.data), `different data for\n${text}\n${JSON.stringify(fast.data)}\n${JSON.stringify(ref.data)}`).toBe(true);
  const a: ManifestLocator = fast.locator;
  for (const p of paths(ref.data)) {
    // Below an empty value the full parser points at an empty node's offset; never used (such a manifest has errors).
    if (p.length > 0 && isEmptyValue(ref.data, p.slice(0, -1))) continue;
    expect(a.keyOf(p), `keyOf ${JSON.stringify(p)} in\n${text}`).toEqual(ref.locator.keyOf(p));
    expect(a.valueOf(p), `valueOf ${JSON.stringify(p)} in\n${text}`).toEqual(ref.locator.valueOf(p));
    expect([...a.keyLocations(p)], `keyLocations ${JSON.stringify(p)}`).toEqual([...ref.locator.keyLocations(p)]);
    expect(a.writtenNumber(p), `writtenNumber ${JSON.stringify(p)}`).toEqual(ref.locator.writtenNumber(p));
  }
  return 'fast';
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

describe('fast manifest reader', () => {
  it('agrees with the full parser on every manifest in the repository', () => {
    const files = [...yamlFiles(path.join(root, 'test/fixtures')), ...yamlFiles(path.join(root, 'examples'))];
    expect(files.length).toBeGreaterThan(40);
    let fast = 0;
    for (const f of files) if (compare(readFileSync(f, 'utf8')) === 'fast') fast++;
    expect(fast).toBeGreaterThan(files.length / 2); // the shortcut is really taken
  });

  it.each([
    ['block maps, flow maps, lists, comments', 'version: 1 # v\ndefaults:\n  model: sora-2\n  assets: [video, thumbnail]\n\n# c\nvideos:\n  a: { prompt: "x, y", seconds: 8 }\n  b:\n    prompt: plain, with commas; and a:colon # comment\n    assets:\n    - video\n    -   thumbnail\n'],
    ['quoted keys and single quotes', "version: 1\nvideos:\n  'it''s': { prompt: 'don''t' }\n  \"q\": {prompt: \"a # b\"}\n"],
    ['urls and colons inside scalars', 'provider:\n  baseURL: http://127.0.0.1:8080/v1\nvideos: {a: {prompt: "x"}}\n'],
    ['null, booleans and integers', 'a: ~\nb: null\nc: true\nd: False\ne: 007\nf:\ng: x\n'],
    ['integers written with leading zeros, in flow and block', 'a: 0042\nb: { c: 007, d: [0, 010] }\n'],
    ['compact list under a key', 'a:\n- x\n- y\nb: 1\n'],
    ['indented comments', 'videos:\n  # about a\n  a:\n    prompt: p\n# end\n'],
    ['a comment after an opening key', 'videos: # targets\n  a: # first\n    prompt: p # why\n'],
    ['unusual characters', 'a: x\u00a0y \u200b \u{1f600} \u2028 z\nb: "\u2029"\n'],
  ])('takes the shortcut for %s', (_name, text) => {
    expect(compare(text)).toBe('fast');
  });

  it.each([
    ['an alias', 'a: &x { prompt: p }\nb: *x\n'],
    ['a block scalar', 'a: |\n  text\n'],
    ['a multi-line plain scalar', 'a: one\n  two\n'],
    ['a multi-line flow map', 'a: { b: 1,\n  c: 2 }\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a float', 'a: 1.5\n'],
    ['a tab', 'a:\t1\n'],
    ['CRLF', 'a: 1\r\n'],
    ['an escape', 'a: "x\\ny"\n'],
    ['a document marker', '---\na: 1\n'],
    ['a compact map in a list', 'a:\n  - b: 1\n'],
    ['nested mapping on one line', 'a: b: c\n'],
    ['a __proto__ key', '__proto__: { polluted: true }\n'],
    ['a trailing comma', 'a: [x, y,]\n'],
    ['an empty flow value', 'a: { b: , c: 1 }\n'],
    ['a flow comment', 'a: [x, # c\n  y]\n'],
    ['bad indentation', 'a:\n    b: 1\n  c: 2\n'],
    ['an indented root', '  a: 1\n'],
    ['a list root', '- a\n'],
    ['only comments', '# nothing\n'],
    ['a local tag', 'a: !foo x\n'],
    ['a language tag', 'a: !!python/object:os.system x\n'],
    ['a tag in a flow list', 'a: [x, !foo y]\n'],
    ['a tag in a flow map', 'a: { b: !foo y }\n'],
    ['a tag on a key', '!foo a: 1\n'],
    ['a tag on a block map', 'a: !foo\n  b: 1\n'],
    ['an unterminated double quote', 'videos:\n  a: { prompt: "It\'s a\n  b: { prompt: y }\n'],
    ['an unterminated single quote', "videos:\n  a: { prompt: 'x }\n"],
    ['an unterminated quote at the end', 'a: "x'],
  ])('declines %s', (_name, text) => {
    expect(compare(text)).toBe('declined');
  });

  it.each([
    ['a: !foo x\n', 'm.yaml:1:4'],
    ['a: !!python/object:os.system x\n', 'm.yaml:1:4'],
    ['a: [x, !foo y]\n', 'm.yaml:1:8'],
    ['a: { b: !foo y }\n', 'm.yaml:1:9'],
    ['!foo a: 1\n', 'm.yaml:1:1'],
    ['a: !foo\n  b: 1\n', 'm.yaml:1:4'],
  ])('and the full parser refuses the tag the fast reader declined: %j', (text, at) => {
    const r = parseManifestYaml(text, 'm.yaml');
    expect(r.ok ? 'accepted' : r.error.map(formatDiagnostic)).toEqual([expect.stringMatching(new RegExp(`^${at}: unsupported YAML tag`))]);
  });

  it('never accepts what the full parser refuses, and agrees on what it accepts (generated texts)', () => {
    const mostly = (safe: readonly string[], tricky: readonly string[]) =>
      fc.oneof({ weight: 15, arbitrary: fc.constantFrom(...safe) }, { weight: 1, arbitrary: fc.constantFrom(...tricky) });
    const key = mostly(['a', 'b', 'prompt', 'video_1', '01x', 'x.y', 'k-v', 'a/b', '"q k"', "'s'", "'it''s'", 'constructor'], ['1', 'true', 'null', 'a b', '__proto__', '-a', '? a', '1e3']);
    const scalar = mostly(
      ['x', 'two words', 'a, b', 'a:b', 'a#c', 'é ü', '"d q"', '"a # b"', "'s q'", "'it''s'", '8', '08', '~', 'null', 'True', 'FALSE', 'x ]', 'http://h:1/v'],
      ['1.5', '-1', '0x1F', '.inf', '0o7', 'a: b', 'a #c', '"a\\"b"', '&a x', '*a', '!t x', '|', '`x`', '@x', '%x', '- x', '', '? x', ': x', 'x\u0085y'],
    ).map((v): Tree => ({ t: 'scalar', v }));
    type Tree = { readonly t: 'scalar'; readonly v: string } | { readonly t: 'map'; readonly flow: boolean; readonly e: readonly (readonly [string, Tree])[] } | { readonly t: 'seq'; readonly flow: boolean; readonly e: readonly Tree[] };
    const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        scalar,
        fc.record({ t: fc.constant('map' as const), flow: fc.boolean(), e: fc.uniqueArray(fc.tuple(key, tie('tree')), { maxLength: 4, selector: ([k]) => k }) }),
        fc.record({ t: fc.constant('seq' as const), flow: fc.boolean(), e: fc.array(tie('tree'), { maxLength: 3 }) }),
      ),
    }));
    const inline = (n: Tree): string => {
      if (n.t === 'scalar') return n.v;
      if (n.t === 'seq') return `[${n.e.map(inline).join(', ')}]`;
      return `{ ${n.e.map(([k, v]) => `${k}: ${inline(v)}`).join(', ')} }`;
    };
    const block = (n: Tree, indent: number, out: string[], comment: string): void => {
      const pad = ' '.repeat(indent);
      if (n.t === 'map' && !n.flow && n.e.length > 0) {
        for (const [k, v] of n.e) {
          if ((v.t === 'map' || v.t === 'seq') && !v.flow && v.e.length > 0) {
            out.push(`${pad}${k}:${comment}`);
            block(v, v.t === 'seq' && indent % 4 === 0 ? indent : indent + 2, out, comment);
          } else {
            out.push(`${pad}${k}: ${inline(v)}${comment}`);
          }
        }
      } else if (n.t === 'seq' && !n.flow && n.e.length > 0) {
        for (const v of n.e) out.push(`${pad}- ${inline(v)}${comment}`);
      } else {
        out.push(`${pad}${inline(n)}`);
      }
    };
    const doc = fc.record({
      top: fc.uniqueArray(fc.tuple(key, tree), { minLength: 1, maxLength: 5, selector: ([k]) => k }),
      comment: fc.constantFrom('', '', ' # c', '  #c'),
      mutate: fc.option(fc.tuple(fc.nat(), fc.nat(3), fc.constantFrom(' ', '\n', ':', '#', ',', '-', '"', "'", '[', '}', '  ', 'x', '\n  ', '\n- ')), { nil: undefined, freq: 3 }),
    });
    let accepted = 0;
    fc.assert(
      fc.property(doc, ({ top, comment, mutate }) => {
        const lines: string[] = [];
        block({ t: 'map', flow: false, e: top }, 0, lines, comment);
        let text = `${lines.join('\n')}\n`;
        if (mutate !== undefined) {
          const [at, del, ins] = mutate;
          const i = at % text.length;
          text = text.slice(0, i) + ins + text.slice(i + del);
        }
        if (compare(text) === 'fast') accepted++;
      }),
      { numRuns: 4000, seed: 42 },
    );
    expect(accepted).toBeGreaterThan(500); // enough accepted texts to compare positions on
  });
});
