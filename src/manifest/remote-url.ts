import { err, ok, type Result } from '../core/result.js';

/**
 * Where a team's shared cache and lock live: `s3://bucket/prefix`. The
 * bucket and prefix are all a manifest says; endpoint, region and
 * credentials come from the standard AWS environment and config chain, so a
 * secret never sits in a committed file.
 */
export interface RemoteLocation {
  /** As the user wrote it, for messages. */
  readonly url: string;
  readonly bucket: string;
  /** '' or ending in '/': keys are `${prefix}objects/...`. */
  readonly prefix: string;
}

// S3's own bucket naming rules (3–63 chars, lowercase, digits, dots, hyphens).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseRemoteUrl(url: string): Result<RemoteLocation, string> {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  if (match === null) return err(`remote must look like s3://bucket/prefix, got ${JSON.stringify(url)}`);
  const bucket = match[1] ?? '';
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    return err(`remote bucket ${JSON.stringify(bucket)} is not a valid S3 bucket name (3–63 lowercase letters, digits, dots, hyphens)`);
  }
  const rawPrefix = (match[2] ?? '').replace(/\/+$/, '');
  if (rawPrefix.split('/').some((part) => part === '' || part === '.' || part === '..') && rawPrefix !== '') {
    return err(`remote prefix ${JSON.stringify(rawPrefix)} has an empty, "." or ".." segment`);
  }
  // Control characters in a key would reach logs and terminals.
  if (/[\u0000-\u001f\u007f]/.test(rawPrefix)) return err('remote prefix has a control character');
  return ok({ url, bucket, prefix: rawPrefix === '' ? '' : `${rawPrefix}/` });
}
