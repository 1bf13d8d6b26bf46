import type { Sha256 } from '../lock/lockfile.js';

const SHA256_RE = /^[0-9a-f]{64}$/;

export function isSha256(s: string): s is Sha256 {
  return SHA256_RE.test(s);
}

/** Brands a hex digest we just computed; a malformed one is a bug. */
export function toSha256(hex: string): Sha256 {
  if (!isSha256(hex)) throw new Error(`not a sha256 digest: ${hex}`);
  return hex;
}
