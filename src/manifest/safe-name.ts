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

export function isCharacterName(name: string): name is CharacterName {
  return unsafeNameReason(name) === undefined;
}
