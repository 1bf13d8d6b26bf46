import { InvalidArgumentError, type Command } from 'commander';
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

const SIZE_UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

/** A size in bytes: `2GB`, `500MB`, `1.5GiB`, `1048576` (decimal units are powers of 1000, binary ones of 1024). */
export function byteSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase() || 'b'];
  if (m === null || unit === undefined) throw new InvalidArgumentError('expected a size such as 2GB, 500MB or 1.5GiB');
  return Math.floor(Number(m[1]) * unit);
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

/**
 * Makes every option that takes a value refuse another option's name as that
 * value. Commander gives a required option-argument the next word whatever it
 * is, so `plan --target --json` planned a target named "--json" and printed
 * text instead of JSON, and `-f --json` looked for a manifest called --json.
 * A value that merely starts with a dash (`--max-cost -1`) is left to the
 * option's own parser. Applied to every command, so options added later are
 * covered without remembering to.
 */
export function refuseOptionsAsValues(root: Command): void {
  const globals = optionNames(root);
  const visit = (cmd: Command): void => {
    const known = new Set([...globals, ...optionNames(cmd)]);
    for (const option of cmd.options) {
      if (!option.required && !option.optional) continue; // a flag: takes no value
      const inner = option.parseArg;
      option.parseArg = <T>(value: string, previous: T): T => {
        const name = value.split('=', 1)[0] ?? value;
        if (value.startsWith('-') && known.has(name)) {
          throw new InvalidArgumentError(`expected a value, not the option ${name}`);
        }
        // `--target=` or `-f ''`: no option means "nothing" by an empty value; it
        // used to plan a target named "" and look for a manifest at the folder.
        if (value.trim() === '') throw new InvalidArgumentError('expected a value, got an empty one');
        // `-f=videos.yaml` is `-f` with the value "=videos.yaml" (short options take no `=`).
        if (value.startsWith('=') && option.short !== undefined && option.long !== undefined) {
          throw new InvalidArgumentError(`a short option takes no "=": write ${option.short} ${value.slice(1)} or ${option.long}${value}`);
        }
        if (inner !== undefined) return inner(value, previous) as T;
        // Commander's own handling when an option has no parser: variadic values collect.
        if (option.variadic) return (previous === option.defaultValue || !Array.isArray(previous) ? [value] : [...previous, value]) as T;
        return value as T;
      };
    }
    for (const sub of cmd.commands) visit(sub);
  };
  visit(root);
}

/** Every spelling of every option `cmd` accepts, including its help (and version) flags. */
function optionNames(cmd: Command): string[] {
  const names = ['-h', '--help'];
  for (const o of cmd.options) {
    if (o.short !== undefined) names.push(o.short);
    if (o.long !== undefined) names.push(o.long);
  }
  return names;
}
