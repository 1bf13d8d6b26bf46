/**
 * Positions inside JSON text, for messages like `videos.lock:12:5: …`.
 * JSON.parse does not say where it failed in a stable way across Node
 * versions, and ajv reports JSON pointers, not offsets; this small scanner
 * answers both questions. It runs only on the error path, so clarity wins
 * over speed.
 */

export interface TextPosition {
  readonly line: number;
  readonly col: number;
}

export function positionAt(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: end - lineStart + 1 };
}

export interface JsonSyntaxError {
  readonly offset: number;
  readonly message: string;
}

class ScanError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Scans `text` as JSON. Returns the first syntax error, or, when `pointer` is
 * given and the text is valid, the offset where that JSON pointer's value
 * starts (its key, for object members, so a message points at the name).
 */
export function scanJson(
  text: string,
  pointer?: string,
  options: { readonly duplicates?: boolean } = {},
): { readonly error: JsonSyntaxError } | { readonly offset: number | undefined } {
  const want = pointer === undefined ? undefined : pointer;
  let found: number | undefined = want === '' ? skipWs(text, 0) : undefined;
  let i = 0;

  const fail = (message: string, at = i): never => {
    throw new ScanError(at, message);
  };
  const ws = (): void => {
    i = skipWs(text, i);
  };
  const describe = (at: number): string => (at >= text.length ? 'end of file (truncated?)' : `character ${JSON.stringify(text[at])}`);

  const value = (path: string): void => {
    ws();
    const c = text[i];
    if (c === '{') return object(path);
    if (c === '[') return array(path);
    if (c === '"') return void string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    fail(`unexpected ${describe(i)}, expected a value`);
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`unexpected ${describe(i)}, expected a value`);
  };
  const number = (): void => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m === null) fail(`malformed number`);
    else i += m[0].length;
  };
  const string = (): string => {
    const start = i;
    i++;
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string (truncated?)', start);
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return out;
      }
      if (c < 32) fail('control character in string');
      if (c === 92) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === 'b' ? '\b' : e === 'f' ? '\f' : e;
          i += 2;
        } else fail('bad escape in string');
      } else {
        out += text[i];
        i++;
      }
    }
  };
  const object = (path: string): void => {
    i++;
    ws();
    if (text[i] === '}') {
      i++;
      return;
    }
    const seen = new Map<string, number>();
    for (;;) {
      ws();
      if (text[i] !== '"') fail(`unexpected ${describe(i)}, expected a property name in double quotes`);
      const keyAt = i;
      const key = string();
      const first = seen.get(key);
      if (options.duplicates === true && first !== undefined) {
        fail(`duplicate key ${JSON.stringify(key)} (also at line ${positionAt(text, first).line})`, keyAt);
      }
      seen.set(key, keyAt);
      const child = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (child === want) found = keyAt;
      ws();
      if (text[i] !== ':') fail(`unexpected ${describe(i)}, expected ':'`);
      i++;
      value(child);
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      fail(`unexpected ${describe(i)}, expected ',' or '}'`);
    }
  };
  const array = (path: string): void => {
    i++;
    ws();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (let n = 0; ; n++) {
      const child = `${path}/${n}`;
      ws();
      if (child === want) found = i;
      value(child);
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      fail(`unexpected ${describe(i)}, expected ',' or ']'`);
    }
  };

  try {
    value('');
    ws();
    if (i < text.length) fail(`unexpected ${describe(i)} after the end of the JSON value`);
  } catch (e: unknown) {
    if (e instanceof ScanError) return { error: { offset: e.offset, message: e.message } };
    // Hostile nesting exhausts the stack: that is a syntax problem too, not a crash.
    if (e instanceof RangeError) return { error: { offset: i, message: 'nested too deeply' } };
    throw e;
  }
  return { offset: found };
}

function skipWs(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) i++;
    else break;
  }
  return i;
}

/**
 * How many object keys the JSON text writes, counted without building them
 * (a string followed by `:` is a key). Compared with the keys JSON.parse kept,
 * it tells cheaply whether the text repeats a key, which JSON.parse silently
 * resolves by dropping the earlier one. -1 when the text is not plain JSON.
 */
export function countJsonKeys(text: string): number {
  let n = 0;
  let i = text.indexOf('"');
  while (i !== -1) {
    let j = text.indexOf('"', i + 1);
    // Skip escaped quotes: an odd run of backslashes before it.
    for (;;) {
      if (j === -1) return -1;
      let k = j - 1;
      while (text.charCodeAt(k) === 92) k--;
      if ((j - 1 - k) % 2 === 0) break;
      j = text.indexOf('"', j + 1);
    }
    let k = j + 1;
    let c = text.charCodeAt(k);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = text.charCodeAt(++k);
    if (c === 58) n++;
    i = text.indexOf('"', k);
  }
  return n;
}

/** The number of keys in every object of parsed JSON data. */
export function countParsedKeys(data: unknown): number {
  let n = 0;
  const stack: unknown[] = [data];
  while (stack.length > 0) {
    const x = stack.pop();
    if (typeof x !== 'object' || x === null) continue;
    if (Array.isArray(x)) {
      for (const y of x) if (typeof y === 'object' && y !== null) stack.push(y);
    } else {
      for (const y of Object.values(x)) {
        n++;
        if (typeof y === 'object' && y !== null) stack.push(y);
      }
    }
  }
  return n;
}
