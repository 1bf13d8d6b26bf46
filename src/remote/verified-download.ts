import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { err, ok, type Result } from '../core/result.js';
import type { CachedAsset } from '../cache/local-cache.js';

/**
 * Streams `body` into `file`, hashing as it goes, and checks the result is
 * exactly `expected` (size and sha256). Stops early when the body runs past
 * the expected size, so a wrong object never fills the disk. Memory holds a
 * chunk at a time. Errors of the stream itself (a broken connection) throw;
 * a mismatch is a value (`has N bytes…`, `does not match its sha256`).
 */
export async function streamVerified(body: Readable, file: string, expected: CachedAsset): Promise<Result<void, string>> {
  const hash = createHash('sha256');
  let bytes = 0;
  let tooLong = false;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > expected.bytes) {
        tooLong = true;
        done(new Error('longer than expected'));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(body, meter, createWriteStream(file, { mode: 0o600 }));
  } catch (e: unknown) {
    if (tooLong) return err(`is larger than the ${expected.bytes} bytes its index says`);
    throw e;
  }
  if (bytes !== expected.bytes) return err(`has ${bytes} bytes, its index says ${expected.bytes}`);
  if (hash.digest('hex') !== expected.sha256) return err('does not match its sha256');
  return ok(undefined);
}
