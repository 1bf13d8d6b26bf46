import type { CharacterName, TargetName } from './manifest.js';

/**
 * Target and character names become file names (`<outDir>/<name>.mp4`) on
 * every OS the project is checked out on, so they must be portable: no path
 * separators, no hidden files, no names Windows reserves.
 */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;

/** Why `name` is not a safe file name, or undefined when it is. */
export function unsafeNameReason(name: string): string | undefined {
  if (name.length > 64) return 'is longer than 64 characters';
  if (!SAFE_NAME.test(name)) {
    if (/[/\\]/.test(name)) return 'must not contain path separators';
    if (name.startsWith('.')) return 'would be a hidden file';
    return "must use only letters, digits, '.', '_' and '-', starting with a letter or digit";
  }
  if (name.endsWith('.')) return 'must not end with a dot (Windows drops it)';
  const stem = name.split('.')[0] ?? name;
  if (WINDOWS_RESERVED.test(stem)) return `is a reserved file name on Windows (${stem.toUpperCase()})`;
  return undefined;
}

export function isTargetName(name: string): name is TargetName {
  return unsafeNameReason(name) === undefined;
}

/**
 * A character's name is never a file name: it is what the prompt must say
 * verbatim (the API matches it in the prompt) and what `createCharacter`
 * sends, so it may be a real name — "Señor Gato", "Captain Lu", "O'Brien".
 * Letters and digits of any script (with their combining marks), single
 * inner spaces, and `_ . ' ’ -`; starting with a letter or digit. Lockfile
 * keys accept all of these (lock/lock-names.ts).
 */
const NAME_CHAR = "[\\p{L}\\p{M}\\p{N}_.'\u2019-]";
const CHARACTER_NAME = new RegExp(`^[\\p{L}\\p{N}](?:${NAME_CHAR}| (?=${NAME_CHAR}))*$`, 'u');
export const MAX_CHARACTER_NAME = 64;

/** Why `name` cannot name a character, or undefined when it can. */
export function badCharacterNameReason(name: string): string | undefined {
  const length = [...name].length;
  if (length > MAX_CHARACTER_NAME) return `is longer than ${MAX_CHARACTER_NAME} characters`;
  if (CHARACTER_NAME.test(name)) return undefined;
  if (/^\s|\s$/u.test(name)) return 'must not start or end with a space';
  if (/ {2}/.test(name)) return 'must not contain two spaces in a row (the prompt must repeat it exactly)';
  if (/[/\\]/.test(name)) return 'must not contain path separators';
  if (/\s/u.test(name.replace(/ /g, ''))) return 'may use plain spaces only (no tabs, line breaks or other blanks)';
  return "must use only letters, digits, single spaces and _ . ' -, starting with a letter or digit";
}

export function isCharacterName(name: string): name is CharacterName {
  return badCharacterNameReason(name) === undefined;
}
