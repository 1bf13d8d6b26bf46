import type { SourceLocation } from '../../core/diagnostic.js';
import type { ManifestLocator, PathSegment } from '../locator.js';

/** Where a map's keys and values start (offsets into the text), as the fast reader recorded them. */
export interface MapPositions {
  readonly start: number;
  readonly keys: string[];
  /** [keyStart, valueStart] per key, in order; valueStart is -1 for an empty value. */
  readonly offsets: number[];
  index?: Map<string, number>;
}

/** Where a sequence and each of its items start. */
export interface SeqPositions {
  readonly start: number;
  readonly items: number[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Found {
  readonly node: unknown;
  /** Start of the value at the end of the path; -1 when it is empty, undefined when the path does not exist. */
  readonly valueStart: number | undefined;
  readonly keyStart: number | undefined;
  /** Start of the deepest existing node on the path. */
  readonly parentStart: number | undefined;
}

/** The same answers as YamlLocator, from the positions the fast reader kept. */
export class FastLocator implements ManifestLocator {
  readonly file: string;
  readonly #text: string;
  readonly #root: Record<string, unknown>;
  readonly #maps: WeakMap<object, MapPositions>;
  readonly #seqs: WeakMap<object, SeqPositions>;
  #lineStarts: number[] | undefined;

  constructor(file: string, text: string, root: Record<string, unknown>, maps: WeakMap<object, MapPositions>, seqs: WeakMap<object, SeqPositions>) {
    this.file = file;
    this.#text = text;
    this.#root = root;
    this.#maps = maps;
    this.#seqs = seqs;
  }

  at(offset: number): SourceLocation {
    if (this.#lineStarts === undefined) {
      const starts = [0];
      const text = this.#text;
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
      this.#lineStarts = starts;
    }
    const starts = this.#lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, col: offset - (starts[lo] ?? 0) + 1 };
  }

  keyOf(path: readonly PathSegment[]): SourceLocation {
    const f = this.#find(path);
    if (f.keyStart !== undefined) return this.at(f.keyStart);
    return this.#nodeLocation(f);
  }

  valueOf(path: readonly PathSegment[]): SourceLocation {
    const f = this.#find(path);
    if (f.valueStart !== undefined && f.valueStart >= 0) return this.at(f.valueStart);
    if (f.keyStart !== undefined) return this.at(f.keyStart);
    return this.#nodeLocation(f);
  }

  keyLocations(path: readonly PathSegment[]): Map<string, SourceLocation> {
    const out = new Map<string, SourceLocation>();
    const { node } = this.#find(path);
    const pos = typeof node === 'object' && node !== null ? this.#maps.get(node) : undefined;
    if (pos === undefined) return out;
    pos.keys.forEach((key, k) => out.set(key, this.at(pos.offsets[2 * k] ?? 0)));
    return out;
  }

  writtenNumber(path: readonly PathSegment[]): string | undefined {
    const f = this.#find(path);
    if (typeof f.node !== 'number' || f.valueStart === undefined || f.valueStart < 0) return undefined;
    // The fast reader reads only unsigned decimal integers (scalars.ts).
    const digits = /[0-9]+/y;
    digits.lastIndex = f.valueStart;
    const written = digits.exec(this.#text)?.[0];
    return written === undefined || written === String(f.node) ? undefined : written;
  }

  #nodeLocation(f: Found): SourceLocation {
    const start = f.valueStart !== undefined && f.valueStart >= 0 ? f.valueStart : f.parentStart;
    return start === undefined ? { file: this.file, line: 1, col: 1 } : this.at(start);
  }

  #find(path: readonly PathSegment[]): Found {
    let node: unknown = this.#root;
    let valueStart: number | undefined = this.#maps.get(this.#root)?.start;
    let keyStart: number | undefined;
    for (const segment of path) {
      const parentStart = valueStart;
      const map = isRecord(node) ? this.#maps.get(node) : undefined;
      if (isRecord(node) && map !== undefined) {
        const k = indexOf(map, String(segment));
        if (k === undefined) return { node: undefined, valueStart: undefined, keyStart: undefined, parentStart };
        keyStart = map.offsets[2 * k];
        valueStart = map.offsets[2 * k + 1];
        node = node[String(segment)];
        continue;
      }
      const seq = Array.isArray(node) ? this.#seqs.get(node) : undefined;
      if (Array.isArray(node) && seq !== undefined) {
        const n = Number(segment);
        const start = seq.items[n];
        if (start === undefined) return { node: undefined, valueStart: undefined, keyStart: undefined, parentStart };
        keyStart = undefined;
        valueStart = start;
        node = node[n];
        continue;
      }
      // A scalar (or an empty value) where the path goes on: the deepest node is its parent's value.
      return { node: undefined, valueStart: undefined, keyStart: undefined, parentStart: parentStart !== undefined && parentStart >= 0 ? parentStart : undefined };
    }
    return { node, valueStart, keyStart, parentStart: undefined };
  }
}

function indexOf(map: MapPositions, key: string): number | undefined {
  if (map.index === undefined) {
    const index = new Map<string, number>();
    map.keys.forEach((k, i) => index.set(k, i));
    map.index = index;
  }
  return map.index.get(key);
}
