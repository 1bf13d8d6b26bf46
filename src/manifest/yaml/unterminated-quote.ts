import { CST, Lexer, type YAMLError } from 'yaml';

/**
 * A quoted scalar the `yaml` package never saw closed. yaml reports it where
 * the scalar ends (often the end of the file, having swallowed every line after
 * the quote), followed by errors about the structure it swallowed; the user
 * needs the opening quote's place instead, and none of the follow-on errors.
 */
export interface UnterminatedQuote {
  /** Offset of the opening quote. */
  readonly start: number;
  readonly quote: '"' | "'";
  /**
   * True when the scalar ran to the end of the text (no closing quote at all);
   * false when yaml stopped it at a line indented too little to continue it.
   */
  readonly toEnd: boolean;
}

/** The first unterminated quoted scalar among yaml's errors, or undefined. */
export function findUnterminatedQuote(text: string, errors: readonly YAMLError[]): UnterminatedQuote | undefined {
  // resolve-flow-scalar reports MISSING_CHAR at offset + source.length of the quoted scalar's token.
  const ends = errors.filter((e) => e.code === 'MISSING_CHAR' && /closing ["']quote/.test(e.message)).map((e) => e.pos[0]);
  if (ends.length === 0) return undefined;
  const first = Math.min(...ends);
  const start = quotedTokenEndingAt(text, first);
  if (start === undefined) return undefined;
  const quote = text.charAt(start) === "'" ? "'" : '"';
  return { start, quote, toEnd: first >= text.length };
}

/** The message for an unterminated quote, in the user's terms. */
export function unterminatedQuoteMessage(q: UnterminatedQuote): string {
  const why = q.toEnd ? `a closing ${q.quote} is missing` : `a closing ${q.quote} is missing, or the next line is not indented enough to continue the string`;
  return `unterminated ${q.quote}quoted string${q.quote} starting here (${why})`;
}

/**
 * Where the quoted-scalar token ending at `end` starts, found by running
 * yaml's own lexer again (only on this error path): the composed document
 * keeps no token offsets, and the quote cannot be found by scanning back,
 * since the swallowed text may hold quotes of its own.
 */
function quotedTokenEndingAt(text: string, end: number): number | undefined {
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    // Control tokens mark structure and take up no source text.
    if (token === CST.DOCUMENT || token === CST.FLOW_END || token === CST.SCALAR) continue;
    const next = offset + token.length;
    if (next === end && (token.startsWith('"') || token.startsWith("'"))) return offset;
    if (next > end) return undefined;
    offset = next;
  }
  return undefined;
}
