import type { ManifestLocator } from '../locator.js';
import { FastLocator, type MapPositions, type SeqPositions } from './fast-locator.js';
import { BOOL_RE, COLON, HASH, isFlowIndicator, NEWLINE, NULL_RE, OTHER_SPECIAL_RE, scanPlain, scanQuoted, SPACE, Unsupported } from './scalars.js';

/**
 * A fast reader for the plain subset of YAML that manifests are written in:
 * block maps, block sequences of scalars, single-line flow maps and lists,
 * plain and quoted one-line scalars, comments. It builds the same plain data
 * `yaml`'s `parseDocument(...).toJS()` builds, and the positions of every key
 * and value, at a fraction of the cost (see README.md for the figures and
 * for how the two readers are held equal).
 *
 * It is only a shortcut: on anything outside that subset — anchors, aliases,
 * tags, block or multi-line scalars, escapes, tabs, CR line ends, numbers
 * other than plain integers, duplicate or odd keys, deep nesting, anything
 * malformed — it gives up (`undefined`) and the caller uses the full parser.
 * What it accepts, it must read exactly as the full parser does: the data,
 * and the position of every key and value, since the later stages' messages
 * point there.
 */

const MAX_DEPTH = 32;
/** YAML's limit for implicit keys is 1024 characters; stay well inside it. */
const MAX_KEY_LENGTH = 512;
/** Keys we take as written: names that no schema tag resolves to something else. */
const KEY_RE = /^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$/;

/** What the fast reader read: the same plain data and locator answers the full parser would give. */
export interface FastParsed {
  readonly data: Record<string, unknown>;
  readonly locator: ManifestLocator;
}

/** Reads manifest text in the plain subset, or `undefined` when the text is outside it (the caller then uses the full parser). */
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
    if (c === 34 || c === 39) return this.#quoted();
    return this.#plain(flow);
  }

  #plain(flow: boolean): unknown {
    const { value, end } = scanPlain(this.text, this.#i, flow);
    this.#i = end;
    return value;
  }

  /** A one-line quoted scalar without escapes. Leaves `#i` after the closing quote. */
  #quoted(): string {
    const { value, end } = scanQuoted(this.text, this.#i);
    this.#i = end;
    return value;
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
