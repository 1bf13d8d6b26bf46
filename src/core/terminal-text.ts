/**
 * Text from the manifest, the lockfile or a provider is not trusted to drive
 * a terminal or a log. A newline in a job's error message would forge a line
 * (`videos.yaml: ok`), an escape sequence could clear the screen, move the
 * cursor, set the window title or hide text, and a bidi override could make
 * a name read backwards. These two functions are where such text is made
 * inert, shown as visible escapes (`\n`, `\x1b`, `\u202e`), never dropped:
 * the user should see that something odd was there.
 */

// C0 controls (tab included), DEL, C1 controls, line and paragraph separators, bidi embeddings/overrides/isolates.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function visible(ch: string): string {
  switch (ch) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default: {
      const code = ch.charCodeAt(0);
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    }
  }
}

/** An untrusted value (a name, an id, a provider's message), escaped to sit inside one line. */
export function escapeControls(s: string): string {
  return s.replace(UNSAFE, visible);
}

// Our own colours: SGR sequences only (ESC [ params m), as picocolors writes them.
// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/g;

/**
 * A line about to be written to a terminal or a log, which may carry our own
 * colour codes: every SGR colour sequence is kept, every other control
 * character (newlines, carriage returns, any other escape sequence) is shown
 * escaped, so one call prints exactly one line whatever its parts held.
 */
export function oneLine(line: string): string {
  let out = '';
  let last = 0;
  for (const m of line.matchAll(SGR)) {
    out += escapeControls(line.slice(last, m.index)) + m[0];
    last = m.index + m[0].length;
  }
  return out + escapeControls(line.slice(last));
}
