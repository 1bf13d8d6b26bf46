import { InvalidArgumentError } from 'commander';
import { UserError, errorDiagnostic } from '../core/diagnostic.js';
import { baseUrlProblem } from '../manifest/provider-checks.js';

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

/**
 * `--base-url`: the same rules as the manifest's `provider.baseURL` (http(s),
 * no credentials, no query). Refused with vidbuild's own one-line error rather
 * than commander's, which would echo the value and so any password in it.
 */
export function httpURL(value: string): string {
  const problem = baseUrlProblem(value);
  if (problem !== undefined) throw new UserError(errorDiagnostic('bad-option', `--base-url ${problem}`));
  return value;
}
