import { isAlias, isMap, isPair, isScalar, isSeq, type Alias, type Document, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import type { SourceLocation } from '../../core/diagnostic.js';
import type { ManifestLocator, PathSegment } from '../locator.js';

export { pointerSegments, type ManifestLocator, type PathSegment } from '../locator.js';

/**
 * Maps positions in the parsed YAML back to `file:line:col`. Every validation
 * layer works on plain data with JSON-Pointer-like paths; this is where a
 * path becomes the place the user has to look at: the key for problems with a
 * key (unknown, duplicate), the value for problems with a value.
 */
export class YamlLocator implements ManifestLocator {
  readonly file: string;
  readonly #doc: Document.Parsed;
  readonly #lines: LineCounter;
  /** Per-map key index, built on first lookup so large maps stay O(1) per lookup. */
  readonly #index = new WeakMap<YAMLMap, Map<string, Pair>>();
  /** Aliases already resolved by the parser; yaml's own resolve walks the whole document per call. */
  #aliasTargets: ReadonlyMap<Alias, Node> | undefined;

  constructor(file: string, doc: Document.Parsed, lines: LineCounter) {
    this.file = file;
    this.#doc = doc;
    this.#lines = lines;
  }

  useAliasTargets(targets: ReadonlyMap<Alias, Node>): void {
    this.#aliasTargets = targets;
  }

  /** Location of a character offset in the source. */
  at(offset: number): SourceLocation {
    const { line, col } = this.#lines.linePos(offset);
    return { file: this.file, line, col };
  }

  /** Where the key named by the last segment is (or the value, for a sequence item). */
  keyOf(path: readonly PathSegment[]): SourceLocation {
    const found = this.#find(path);
    const keyNode = found.pair?.key;
    if (isScalar(keyNode) && keyNode.range) return this.at(keyNode.range[0]);
    return this.#nodeLocation(found.node, found.parent);
  }

  /** Where the value at `path` is (falls back to its key, then to the nearest ancestor). */
  valueOf(path: readonly PathSegment[]): SourceLocation {
    const found = this.#find(path);
    // A value written as `*alias` is wrong where it is used, not where its anchor is.
    if (isAlias(found.written) && found.written.range) return this.at(found.written.range[0]);
    const value = found.node;
    if (value !== undefined && value.range && !(isScalar(value) && value.value === null && value.range[0] === value.range[1])) {
      return this.at(value.range[0]);
    }
    const keyNode = found.pair?.key;
    if (isScalar(keyNode) && keyNode.range) return this.at(keyNode.range[0]);
    return this.#nodeLocation(value, found.parent);
  }

  /** Locations of every key of the map at `path`, in one pass (for locating all targets cheaply). */
  keyLocations(path: readonly PathSegment[]): Map<string, SourceLocation> {
    const out = new Map<string, SourceLocation>();
    const { node } = this.#find(path);
    if (!isMap(node)) return out;
    for (const [key, pair] of this.#pairs(node)) {
      if (isScalar(pair.key) && pair.key.range) out.set(key, this.at(pair.key.range[0]));
    }
    return out;
  }

  writtenNumber(path: readonly PathSegment[]): string | undefined {
    const { node } = this.#find(path);
    if (!isScalar(node) || typeof node.value !== 'number' || typeof node.source !== 'string') return undefined;
    return node.source === String(node.value) ? undefined : node.source;
  }

  #nodeLocation(node: Node | undefined, parent: Node | undefined): SourceLocation {
    const n = node ?? parent;
    if (n?.range) return this.at(n.range[0]);
    return { file: this.file, line: 1, col: 1 };
  }

  #resolve(node: unknown): Node | undefined {
    if (isAlias(node)) return this.#resolve(this.#aliasTargets?.get(node) ?? node.resolve(this.#doc));
    if (isMap(node) || isSeq(node) || isScalar(node)) return node;
    return undefined;
  }

  #pairs(map: YAMLMap): Map<string, Pair> {
    let index = this.#index.get(map);
    if (index === undefined) {
      index = new Map();
      const merges: unknown[] = [];
      for (const item of map.items) {
        if (!isPair(item)) continue;
        if (isMergeKey(item.key)) {
          merges.push(item.value);
          continue;
        }
        const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
        // The first occurrence wins, as for the data (duplicates are reported separately).
        if (!index.has(key)) index.set(key, item);
      }
      // `<<: *anchor` (or a list of them): keys written in the map win, then the
      // first source that has the key, as yaml's merge does. Such a key is located
      // where the anchored map writes it.
      this.#index.set(map, index);
      for (const merge of merges) {
        const value = this.#resolve(merge);
        const sources = isSeq(value) ? value.items.map((i) => this.#resolve(i)) : [value];
        for (const source of sources) {
          if (!isMap(source) || source === map) continue;
          for (const [key, pair] of this.#pairs(source)) if (!index.has(key)) index.set(key, pair);
        }
      }
    }
    return index;
  }

  /** Walks `path`, stopping at the deepest node that exists; `written` is the last step as written (possibly an alias). */
  #find(path: readonly PathSegment[]): { node: Node | undefined; pair: Pair | undefined; parent: Node | undefined; written?: unknown } {
    let node = this.#resolve(this.#doc.contents);
    let pair: Pair | undefined;
    let parent: Node | undefined;
    let written: unknown;
    for (const segment of path) {
      if (node === undefined) break;
      if (isMap(node)) {
        const p = this.#pairs(node).get(String(segment));
        if (p === undefined) return { node: undefined, pair: undefined, parent: node };
        parent = node;
        pair = p;
        written = p.value;
        node = this.#resolve(p.value);
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)];
        if (item === undefined) return { node: undefined, pair: undefined, parent: node };
        parent = node;
        pair = undefined;
        written = item;
        node = this.#resolve(item);
      } else {
        return { node: undefined, pair: undefined, parent: node };
      }
    }
    return { node, pair, parent, written };
  }
}

/** yaml's `<<` merge key (a Symbol-valued scalar when merge keys are on). */
export function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  const v = key.value;
  return typeof v === 'symbol' ? v.description === '<<' : false;
}
