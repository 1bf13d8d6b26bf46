import pc from 'picocolors';

export type { Colors } from '../core/colors.js';
import type { Colors } from '../core/colors.js';

/**
 * Colour only for a person at a terminal: off under NO_COLOR, when the stream
 * is not a TTY, or when asked (`--no-color`, and always for JSON). CI
 * services that render ANSI colour in their logs (GitHub Actions, GitLab)
 * set FORCE_COLOR to have it without a TTY; `FORCE_COLOR=0` turns it off.
 * NO_COLOR wins over FORCE_COLOR, as in picocolors and most of the
 * ecosystem: a user's "never" beats a CI image's default.
 */
export function colorsFor(stream: NodeJS.WriteStream, forceOff = false, env: NodeJS.ProcessEnv = process.env): Colors {
  return pc.createColors(!forceOff && colorWanted(stream.isTTY === true, env));
}

export function colorWanted(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  const noColor = env['NO_COLOR'];
  if (noColor !== undefined && noColor !== '') return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined) {
    // FORCE_COLOR= (empty), 1, 2, 3, true: on; 0 and false: off.
    return force !== '0' && force.toLowerCase() !== 'false';
  }
  return isTTY && env['TERM'] !== 'dumb';
}
