import type { CharacterName, TargetName } from '../manifest/manifest.js';
import type { CharacterId, Fingerprint, JobId, Sha256 } from './lockfile.js';

/**
 * Type guards for the branded strings found in a lockfile. The lockfile
 * schema checks the same patterns on read, so after `readLockfile` these only
 * narrow; they exist so no code has to cast a string to a brand.
 */

/** A key under `videos`/`characters`: one path segment, no separators, no dot-names, no control characters. */
export const LOCK_NAME_PATTERN = '^(?!\\.{1,2}$)[^/\\\\\\u0000-\\u001f]{1,200}$';
const NAME_RE = new RegExp(LOCK_NAME_PATTERN, 'u');

export function isTargetKey(s: string): s is TargetName {
  return NAME_RE.test(s);
}
export function isCharacterKey(s: string): s is CharacterName {
  return NAME_RE.test(s);
}

const SHA256_RE = /^[0-9a-f]{64}$/;
export function isSha256(s: string): s is Sha256 {
  return SHA256_RE.test(s);
}

/** Takes what a provider sent (an answer may lack the field the SDK's types promise). */
export function isJobId(s: unknown): s is JobId {
  return typeof s === 'string' && s.length > 0;
}
export function isCharacterId(s: unknown): s is CharacterId {
  return typeof s === 'string' && s.length > 0;
}

const FINGERPRINT_RE = /^sha256:[0-9a-f]{64}$/;
export function isFingerprint(s: string): s is Fingerprint {
  return FINGERPRINT_RE.test(s);
}

/** Narrows or throws: for values this program computed itself (a failure is a bug). */
export function sha256Of(hex: string): Sha256 {
  if (!isSha256(hex)) throw new Error(`not a sha256: ${hex}`);
  return hex;
}
