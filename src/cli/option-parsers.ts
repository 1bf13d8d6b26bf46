import { InvalidArgumentError } from 'commander';

/**
 * Strict parsers for command-line values. `parseInt('2.5')` is 2 and
 * `parseFloat('5abc')` is 5: a typo must not quietly become another budget or
 * concurrency, so anything that is not exactly a number is refused here, with
 * commander's one-line "option ... argument ... is invalid" error.
 */

const WHOLE = /^\d+$/;
const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

/** A whole number in [min, max]. */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const v = value.trim();
    const n = WHOLE.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`expected a whole number ${range}`);
    }
    return n;
  };
}

/** A non-negative decimal number (an amount in USD, seconds). */
export function decimal(what: string): (value: string) => number {
  return (value) => {
    const v = value.trim().replace(/^\$/, '');
    const n = DECIMAL.test(v) ? Number(v) : Number.NaN;
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected ${what}, 0 or more (e.g. 5 or 2.5)`);
    return n;
  };
}

/** A base URL must be http(s); anything else would only fail later, after a long retry. */
export function httpURL(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('not a URL (expected e.g. https://api.example.com/v1)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError(`${url.protocol} is not supported (expected an http:// or https:// URL)`);
  }
  return value;
}
