/**
 * Scalars of the fast reader's subset: one-line plain scalars resolved as
 * YAML 1.2's core schema resolves them, and one-line quoted scalars without
 * escapes. Anything else makes the reader give up (see README.md).
 */

/** Give up: the text is outside the subset (or not valid YAML); the full parser decides. */
export class Unsupported extends Error {}

// The YAML 1.2 core schema's plain-scalar resolution (as in yaml's schema/core).
export const NULL_RE = /^(?:~|[Nn]ull|NULL)$/;
export const BOOL_RE = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const DECIMAL_RE = /^[0-9]{1,15}$/;
export const OTHER_SPECIAL_RE =
  /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*))$/;

export const SPACE = 32;
export const NEWLINE = 10;
export const HASH = 35;
export const COLON = 58;

export function isFlowIndicator(c: number): boolean {
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

/** A scalar read from the text, and the offset just past it. */
export interface Scanned<T> {
  readonly value: T;
  readonly end: number;
}

/** A plain scalar starting at `start` and ending on its line (or, in flow, at a flow indicator); `end` is after its last non-space. */
export function scanPlain(text: string, start: number, flow: boolean): Scanned<unknown> {
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
  return { value: resolvePlain(text.slice(start, end)), end };
}

/** A one-line quoted scalar without escapes starting at `start` (its quote); `end` is after the closing quote. */
export function scanQuoted(text: string, start: number): Scanned<string> {
  const quote = text.charCodeAt(start);
  let i = start + 1;
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
      return { value: out, end: i + 1 };
    }
    i++;
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
