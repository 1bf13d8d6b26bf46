import type { SourceLocation } from '../core/diagnostic.js';
import type { ManifestLocator, PathSegment } from './locator.js';

/**
 * A fast reader for the plain subset of YAML that manifests are written in:
 * block maps, block sequences of scalars, single-line flow maps and lists,
 * plain and quoted one-line scalars, comments. It builds the same plain data
 * `yaml`'s `parseDocument(...).toJS()` builds, and the positions of every key
 * and value, at a fraction of the cost (the full parser spends ~400 ms and
 * much garbage on a 10,000-target manifest).
 *
 * It is only a shortcut: on anything outside that subset — anchors, aliases,
 * tags, block or multi-line scalars, escapes, tabs, CR line ends, numbers
 * other than plain integers, duplicate or odd keys, deep nesting, anything
 * malformed — it gives up (`undefined`) and the caller uses the full parser.
 * The caller also falls back whenever a manifest read this way has any
 * diagnostic at all, so every message and position the user sees comes from
 * the full parser; what this reader must get exactly right is the data and
 * the positions of keys (targets keep their location).
 */

/** Where a map's keys and values start (offsets into the text). */
interface MapPositions {
  readonly start: number;
  readonly keys: string[];
  /** [keyStart, valueStart] per key, in order; valueStart is -1 for an empty value. */
  readonly offsets: number[];
  index?: Map<string, number>;
}

interface SeqPositions {
  readonly start: number;
  readonly items: number[];
}

/** Give up: the text is outside the subset (or not valid YAML); the full parser decides. */
class Unsupported extends Error {}

const MAX_DEPTH = 32;
/** YAML's limit for implicit keys is 1024 characters; stay well inside it. */
const MAX_KEY_LENGTH = 512;

// The YAML 1.2 core schema's plain-scalar resolution (as in yaml's schema/core).
const NULL_RE = /^(?:~|[Nn]ull|NULL)$/;
const BOOL_RE = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const DECIMAL_RE = /^[0-9]{1,15}$/;
const OTHER_SPECIAL_RE =
  /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*))$/;
/** Keys we take as written: names that no schema tag resolves to something else. */
const KEY_RE = /^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$/;

const SPACE = 32;
const NEWLINE = 10;
const HASH = 35;
const COLON = 58;

function isFlowIndicator(c: number): boolean {
  return c === 44 /* , */ || c === 91 /* [ */ || c === 93 /* ] */ || c === 123 /* { */ || c === 125; /* } */
}

/** Characters that cannot start a plain scalar we accept (YAML indicators, and `-?:` to stay simple). */
function isIndicatorStart(c: number): boolean {
  return (
    isFlowIndicator(c) ||
    c === 45 /* - */ ||
    c === 63 /* ? */ ||
    c === COLON ||
    c === HASH ||
    c === 38 /* & */ ||
    c === 42 /* * */ ||
    c === 33 /* ! */ ||
    c === 124 /* | */ ||
    c === 62 /* > */ ||
    c === 39 /* ' */ ||
    c === 34 /* " */ ||
    c === 37 /* % */ ||
    c === 64 /* @ */ ||
    c === 96 /* ` */ ||
    c === SPACE
  );
}

export interface FastParsed {
  readonly data: Record<string, unknown>;
  readonly locator: ManifestLocator;
}

export function parseManifestFast(text: string, file: string): FastParsed | undefined {
  if (text.includes('\t') || text.includes('\r')) return undefined;
  const maps = new WeakMap<object, MapPositions>();
  const seqs = new WeakMap<object, SeqPositions>();
  try {
    const data = new Reader(text, maps, seqs).document();
    return { data, locator: new FastLocator(file, text, data, maps, seqs) };
  } catch (e: unknown) {
    if (e instanceof Unsupported || e instanceof RangeError) return undefined;
    throw e;
  }
}

class Reader {
  #i = 0;
  /** Start of the current content line and its indentation (-1 at the end of the text). */
  #lineStart = 0;
  #indent = 0;

  constructor(
    private readonly text: string,
    private readonly maps: WeakMap<object, MapPositions>,
    private readonly seqs: WeakMap<object, SeqPositions>,
  ) {}

  document(): Record<string, unknown> {
    this.#nextContentLine(-1);
    if (this.#indent !== 0) throw new Unsupported();
    const root = this.#blockMap(0, 0);
    if (!this.#atEnd()) throw new Unsupported();
    return root;
  }

  #atEnd(): boolean {
    return this.#indent === -1;
  }

  /**
   * Moves to the next line with content, skipping blank and comment lines.
   * A comment indented deeper than `scalarIndent` after a plain scalar could
   * be read differently; give up on it.
   */
  #nextContentLine(scalarIndent: number): void {
    const text = this.text;
    let i = this.#i;
    for (;;) {
      if (i >= text.length) {
        this.#i = i;
        this.#indent = -1;
        return;
      }
      const start = i;
      while (text.charCodeAt(i) === SPACE) i++;
      const c = text.charCodeAt(i);
      if (c === NEWLINE) {
        i++;
        continue;
      }
      if (Number.isNaN(c)) continue; // trailing spaces at the end of the text
      if (c === HASH) {
        if (scalarIndent >= 0 && i - start > scalarIndent) throw new Unsupported();
        const nl = text.indexOf('\n', i);
        i = nl === -1 ? text.length : nl + 1;
        continue;
      }
      this.#i = i;
      this.#lineStart = start;
      this.#indent = i - start;
      return;
    }
  }

  /** After a value on the current line: only spaces, then a comment or the line end. */
  #endOfLine(): void {
    const text = this.text;
    let i = this.#i;
    const from = i;
    while (text.charCodeAt(i) === SPACE) i++;
    if (i < text.length && text.charCodeAt(i) !== NEWLINE) {
      if (text.charCodeAt(i) !== HASH || i === from) throw new Unsupported();
      const nl = text.indexOf('\n', i);
      i = nl === -1 ? text.length : nl;
    }
    this.#i = i < text.length ? i + 1 : i;
  }

  #blockMap(indent: number, depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) throw new Unsupported();
    const out: Record<string, unknown> = {};
    const pos: MapPositions = { start: this.#i, keys: [], offsets: [] };
    const seen = new Set<string>();
    while (this.#indent === indent) {
      const keyStart = this.#i;
      const key = this.#key(false);
      if (seen.has(key)) throw new Unsupported(); // duplicate: reported by the full parser
      seen.add(key);
      // `#i` is just past the `:`.
      const text = this.text;
      let i = this.#i;
      while (text.charCodeAt(i) === SPACE) i++;
      const c = text.charCodeAt(i);
      let value: unknown;
      let valueStart: number;
      if (Number.isNaN(c) || c === NEWLINE || (c === HASH && i > this.#i)) {
        // The value is on the following lines (or empty); `#i` is still just past the `:`, before any comment's spaces.
        this.#endOfLine();
        this.#nextContentLine(-1);
        const next = this.#indent;
        if (next > indent && !this.#atSeqItem()) {
          valueStart = this.#i;
          value = this.#blockMap(next, depth + 1);
        } else if (next >= indent && this.#atSeqItem()) {
          valueStart = this.#i;
          value = this.#blockSeq(next, depth + 1);
        } else {
          valueStart = -1;
          value = null;
        }
        if (this.#indent > indent) throw new Unsupported();
      } else {
        this.#i = i;
        valueStart = i;
        value = this.#inlineValue(false, depth + 1);
        this.#endOfLine();
        this.#nextContentLine(c === 34 || c === 39 || c === 123 || c === 91 ? -1 : indent);
        if (this.#indent > indent) throw new Unsupported(); // a continuation line or bad indentation
      }
      out[key] = value;
      pos.keys.push(key);
      pos.offsets.push(keyStart, valueStart);
    }
    if (this.#indent > indent) throw new Unsupported();
    this.maps.set(out, pos);
    return out;
  }

  #atSeqItem(): boolean {
    if (this.text.charCodeAt(this.#i) !== 45) return false;
    const next = this.text.charCodeAt(this.#i + 1);
    return next === SPACE || next === NEWLINE || Number.isNaN(next);
  }

  #blockSeq(indent: number, depth: number): unknown[] {
    if (depth > MAX_DEPTH) throw new Unsupported();
    const out: unknown[] = [];
    const pos: SeqPositions = { start: this.#i, items: [] };
    while (this.#indent === indent && this.#atSeqItem()) {
      const text = this.text;
      let i = this.#i + 1;
      while (text.charCodeAt(i) === SPACE) i++;
      const c = text.charCodeAt(i);
      if (Number.isNaN(c) || c === NEWLINE || c === HASH) throw new Unsupported(); // nested block under `-`
      this.#i = i;
      pos.items.push(i);
      out.push(this.#inlineValue(false, depth + 1));
      this.#endOfLine();
      this.#nextContentLine(c === 34 || c === 39 || c === 123 || c === 91 ? -1 : indent);
      if (this.#indent > indent) throw new Unsupported();
    }
    this.seqs.set(out, pos);
    return out;
  }

  /** A key followed by `:` (and a space, a line end, or in flow a flow indicator). Leaves `#i` after the `:`. */
  #key(flow: boolean): string {
    const text = this.text;
    const c = text.charCodeAt(this.#i);
    let key: string;
    if (c === 34 || c === 39) {
      key = this.#quoted();
    } else {
      const start = this.#i;
      let i = start;
      for (;;) {
        const ch = text.charCodeAt(i);
        if (ch === COLON || ch === SPACE || ch === NEWLINE || Number.isNaN(ch) || (flow && isFlowIndicator(ch))) break;
        i++;
      }
      key = text.slice(start, i);
      if (!KEY_RE.test(key) || NULL_RE.test(key) || BOOL_RE.test(key) || OTHER_SPECIAL_RE.test(key)) throw new Unsupported();
      this.#i = i;
    }
    if (key.length > MAX_KEY_LENGTH || key === '__proto__') throw new Unsupported();
    if (text.charCodeAt(this.#i) !== COLON) throw new Unsupported();
    const after = text.charCodeAt(this.#i + 1);
    if (!(after === SPACE || after === NEWLINE || Number.isNaN(after))) throw new Unsupported();
    this.#i++;
    return key;
  }

  /** A value that starts on the current line and ends on it. */
  #inlineValue(flow: boolean, depth: number): unknown {
    const c = this.text.charCodeAt(this.#i);
    if (c === 123) return this.#flowMap(depth);
    if (c === 91) return this.#flowSeq(depth);
    if (c === 34 || c === 39) {
      const s = this.#quoted();
      return s;
    }
    return this.#plain(flow);
  }

  #plain(flow: boolean): unknown {
    const text = this.text;
    const start = this.#i;
    if (isIndicatorStart(text.charCodeAt(start))) throw new Unsupported();
    let i = start;
    let end = start;
    for (;;) {
      const ch = text.charCodeAt(i);
      if (Number.isNaN(ch) || ch === NEWLINE) break;
      if (ch === HASH && text.charCodeAt(i - 1) === SPACE) {
        if (flow) throw new Unsupported(); // a comment inside a flow collection continues it on the next line
        break;
      }
      if (ch === COLON) {
        const next = text.charCodeAt(i + 1);
        if (next === SPACE || next === NEWLINE || Number.isNaN(next) || (flow && isFlowIndicator(next))) throw new Unsupported();
      }
      if (flow && isFlowIndicator(ch)) break;
      if (ch < 32 || (ch >= 0x7f && ch <= 0x9f) || ch === 0xfeff) throw new Unsupported();
      i++;
      if (ch !== SPACE) end = i;
    }
    this.#i = end;
    return resolvePlain(text.slice(start, end));
  }

  /** A one-line quoted scalar without escapes. Leaves `#i` after the closing quote. */
  #quoted(): string {
    const text = this.text;
    const quote = text.charCodeAt(this.#i);
    let i = this.#i + 1;
    let out = '';
    let from = i;
    for (;;) {
      const ch = text.charCodeAt(i);
      if (Number.isNaN(ch) || ch === NEWLINE || ch === 92 /* \ */ || ch < 32 || (ch >= 0x7f && ch <= 0x9f) || ch === 0xfeff) {
        throw new Unsupported();
      }
      if (ch === quote) {
        if (quote === 39 && text.charCodeAt(i + 1) === 39) {
          out += text.slice(from, i + 1);
          i += 2;
          from = i;
          continue;
        }
        out += text.slice(from, i);
        this.#i = i + 1;
        return out;
      }
      i++;
    }
  }

  #skipSpaces(): number {
    while (this.text.charCodeAt(this.#i) === SPACE) this.#i++;
    return this.text.charCodeAt(this.#i);
  }

  #flowMap(depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) throw new Unsupported();
    const out: Record<string, unknown> = {};
    const pos: MapPositions = { start: this.#i, keys: [], offsets: [] };
    this.#i++;
    let c = this.#skipSpaces();
    if (c === 125) {
      this.#i++;
      this.maps.set(out, pos);
      return out;
    }
    for (;;) {
      const keyStart = this.#i;
      const key = this.#key(true);
      if (Object.hasOwn(out, key)) throw new Unsupported();
      c = this.#skipSpaces();
      if (c === 44 || c === 125 || c === NEWLINE || Number.isNaN(c)) throw new Unsupported(); // empty value
      const valueStart = this.#i;
      out[key] = this.#inlineValue(true, depth + 1);
      pos.keys.push(key);
      pos.offsets.push(keyStart, valueStart);
      c = this.#skipSpaces();
      if (c === 125) {
        this.#i++;
        this.maps.set(out, pos);
        return out;
      }
      if (c !== 44) throw new Unsupported();
      this.#i++;
      c = this.#skipSpaces();
      if (c === 125 || c === 44) throw new Unsupported(); // trailing or doubled comma
    }
  }

  #flowSeq(depth: number): unknown[] {
    if (depth > MAX_DEPTH) throw new Unsupported();
    const out: unknown[] = [];
    const pos: SeqPositions = { start: this.#i, items: [] };
    this.#i++;
    let c = this.#skipSpaces();
    if (c === 93) {
      this.#i++;
      this.seqs.set(out, pos);
      return out;
    }
    for (;;) {
      if (c === 44 || c === 93 || c === NEWLINE || Number.isNaN(c)) throw new Unsupported();
      pos.items.push(this.#i);
      out.push(this.#inlineValue(true, depth + 1));
      c = this.#skipSpaces();
      if (c === 93) {
        this.#i++;
        this.seqs.set(out, pos);
        return out;
      }
      if (c !== 44) throw new Unsupported(); // includes `a: b` pairs inside a list
      this.#i++;
      c = this.#skipSpaces();
    }
  }
}

function resolvePlain(s: string): unknown {
  if (s === '') throw new Unsupported();
  if (NULL_RE.test(s)) return null;
  if (BOOL_RE.test(s)) return s.charCodeAt(0) === 116 || s.charCodeAt(0) === 84;
  if (DECIMAL_RE.test(s)) return Number(s);
  if (OTHER_SPECIAL_RE.test(s)) throw new Unsupported();
  return s;
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
class FastLocator implements ManifestLocator {
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
