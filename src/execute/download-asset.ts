import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, promises as fsp, type WriteStream } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type OpenAI from 'openai';
import { APIError } from 'openai';
import type { AssetVariant } from '../manifest/manifest.js';
import type { Sha256 } from '../lock/lockfile.js';
import { sha256Of } from '../lock/lock-names.js';
import { err, ok, type Result } from '../core/result.js';
import { sleep } from './rate-gate.js';
import { describeLocalWrite, localWriteErrorOf } from '../core/local-write-error.js';
import type { OverwriteGuard } from './overwrite-guard.js';
import { MP4_HEAD_BYTES, startsLikeMp4 } from '../core/mp4-header.js';
import { classifyImageBytes } from '../core/image-header.js';
import { makeDirs } from '../core/make-dirs.js';

/**
 * Downloads one asset of a completed job into place, safely:
 * stream → temp file next to the destination (same filesystem, so the rename
 * is atomic) while hashing → check the size against Content-Length → fsync →
 * rename. A response that is not the expected media type (a JSON error body,
 * an HTML proxy page) is refused before a byte is written, so it never
 * becomes an `.mp4`. Memory stays flat: nothing is buffered whole.
 *
 * The bytes are checked too, as they arrive: a video must start as an MP4
 * does (an `ftyp` box), an image as a JPEG, PNG or WebP, or the transfer
 * stops and nothing is kept — a provider or proxy that labels a text body
 * `video/mp4` does not get it saved as the video, nor into the cache.
 *
 * A truncated or dropped transfer retries the *download* (never the job).
 * A local write error (disk full, quota, read-only, permissions) is final at
 * once: downloading again cannot help, and the file in place is untouched.
 */
export interface DownloadedAsset {
  readonly bytes: number;
  readonly sha256: Sha256;
}

export type DownloadFailure = {
  readonly code: 'asset-expired' | 'bad-content-type' | 'not-media' | 'truncated' | 'download-failed' | 'download-refused' | 'sha-mismatch' | 'output-not-ours' | 'write-failed' | 'aborted';
  readonly message: string;
  /** A 429: asked again once the shared back-off allows, without using up an attempt (up to MAX_RATE_LIMITED). */
  readonly rateLimited?: true;
};

/**
 * 429s one download may meet before it fails. A rate limit is the server
 * saying "later", not "no": under a per-minute limit a whole window can pass
 * before there is room, and giving up after a few tries failed a target
 * whose video was made and paid for (the next run would download it, but
 * only after the user had been told it failed).
 */
const MAX_RATE_LIMITED = 20;

const TRANSIENT: ReadonlySet<number> = new Set([408, 409, 429]);

const ACCEPTED: Readonly<Record<AssetVariant, readonly string[]>> = {
  video: ['video/mp4'],
  thumbnail: ['image/webp', 'image/jpeg', 'image/png'],
  spritesheet: ['image/jpeg', 'image/webp', 'image/png'],
};

export interface DownloadOptions {
  readonly client: OpenAI;
  readonly jobId: string;
  readonly variant: AssetVariant;
  /** Absolute destination path (already checked to be inside the project). */
  readonly dest: string;
  readonly signal?: AbortSignal | undefined;
  readonly attempts?: number;
  /**
   * The sha256 the lock records for this very job's asset. Other bytes are
   * not what was committed (a provider that serves something else, a lock
   * edited by hand): they are refused before they take the output's place.
   */
  readonly expectedSha256?: Sha256 | undefined;
  /** Whether the file at `dest`, if any, may be replaced by these bytes (overwrite-guard.ts). */
  readonly guard?: OverwriteGuard | undefined;
  /** The run's shared 429 back-off: a rate-limited download waits for it before asking again. */
  readonly rateGate?: { wait(signal?: AbortSignal | null): Promise<void> } | undefined;
}

export async function downloadAsset(options: DownloadOptions): Promise<Result<DownloadedAsset, DownloadFailure>> {
  const attempts = options.attempts ?? 4;
  let last: DownloadFailure = { code: 'download-failed', message: 'no attempt made' };
  let rateLimited = 0;
  for (let i = 0; i < attempts; i++) {
    if (options.signal?.aborted === true) return err({ code: 'aborted', message: 'interrupted' });
    const r = await downloadOnce(options);
    if (r.ok) return r;
    last = r.error;
    if (r.error.code !== 'truncated' && r.error.code !== 'download-failed') return r;
    try {
      if (r.error.rateLimited === true && ++rateLimited <= MAX_RATE_LIMITED) {
        i--;
        // The gate (closed by the client's fetch on the 429) holds every request back; then a short jitter.
        await options.rateGate?.wait(options.signal);
        await sleep(100 + Math.random() * 400, options.signal);
        continue;
      }
      await sleep(250 * 2 ** i, options.signal);
    } catch {
      return err({ code: 'aborted', message: 'interrupted' });
    }
  }
  return err({ code: last.code, message: last.message });
}

async function downloadOnce(options: DownloadOptions): Promise<Result<DownloadedAsset, DownloadFailure>> {
  let res: Response;
  try {
    res = await options.client.videos.downloadContent(
      options.jobId,
      { variant: options.variant },
      options.signal === undefined ? {} : { signal: options.signal },
    );
  } catch (e: unknown) {
    if (e instanceof APIError && (e.status === 404 || e.status === 410)) {
      return err({ code: 'asset-expired', message: `${options.variant} of ${options.jobId} is no longer available (HTTP ${e.status})` });
    }
    if (options.signal?.aborted === true) return err({ code: 'aborted', message: 'interrupted' });
    // The API refused (bad key, forbidden…): asking again gets the same answer.
    // 408, 409 and 429 are transient: the SDK retried them a couple of times
    // already, but a busy server can answer 429 more often than that, and a
    // download (unlike a create) is always safe to ask again after the back-off.
    if (e instanceof APIError && e.status !== undefined && e.status >= 400 && e.status < 500 && !TRANSIENT.has(e.status)) {
      return err({ code: 'download-refused', message: e.message });
    }
    return err({ code: 'download-failed', message: e instanceof Error ? e.message : String(e), ...(e instanceof APIError && e.status === 429 ? { rateLimited: true as const } : {}) });
  }
  const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!ACCEPTED[options.variant].includes(type)) {
    await res.body?.cancel().catch(() => undefined);
    return err({
      code: 'bad-content-type',
      message: `${options.variant} of ${options.jobId}: expected ${ACCEPTED[options.variant].join(' or ')}, got ${type === '' ? 'no content-type' : type}`,
    });
  }
  const lengthHeader = res.headers.get('content-length');
  const expected = lengthHeader === null ? undefined : Number(lengthHeader);
  if (res.body === null) return err({ code: 'truncated', message: 'empty body' });

  const dir = path.dirname(options.dest);
  const tmp = path.join(dir, `.${path.basename(options.dest)}.${randomBytes(4).toString('hex')}.tmp`);
  const hash = createHash('sha256');
  let bytes = 0;
  // The first bytes, until there are enough to tell what the body is.
  let head: Buffer | undefined = Buffer.alloc(0);
  const notMedia = (): NotMedia =>
    new NotMedia(`the ${options.variant} of job ${options.jobId} is not ${options.variant === 'video' ? 'an MP4 (it does not start with an ftyp box)' : 'a JPEG, PNG or WebP image'}; nothing was saved`);
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (head !== undefined) {
        head = Buffer.concat([head, chunk]);
        if (head.length >= MP4_HEAD_BYTES) {
          if (!looksLike(options.variant, head)) return cb(notMedia());
          head = undefined;
        }
      }
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      // A whole body shorter than the head is judged on what there is; one cut short is a truncation (retried).
      const whole = expected === undefined || !Number.isFinite(expected) || bytes === expected;
      cb(whole && head !== undefined && head.length > 0 && !looksLike(options.variant, head) ? notMedia() : null);
    },
  });
  let out: WriteStream | undefined;
  try {
    await makeDirs(dir);
    // The stream owns the file: `flush` fsyncs it before it closes, and the
    // pipeline settles only once it has closed. (A FileHandle stream with
    // `autoClose: false` keeps a reference that makes `handle.close()` wait
    // forever, which left the process with nothing to do and a .tmp behind.)
    out = createWriteStream(tmp, { flush: true });
    const body = Readable.fromWeb(res.body);
    await pipeline(body, counter, out, options.signal === undefined ? {} : { signal: options.signal });
    if (expected !== undefined && Number.isFinite(expected) && bytes !== expected) {
      throw new Truncated(`got ${bytes} of ${expected} bytes`);
    }
    if (bytes === 0) throw new Truncated('empty body');
    const sha256 = sha256Of(hash.digest('hex'));
    if (options.expectedSha256 !== undefined && sha256 !== options.expectedSha256) {
      await fsp.rm(tmp, { force: true });
      return err({
        code: 'sha-mismatch',
        message: `${options.variant} of ${options.jobId} has sha256 ${hex(sha256)}, but videos.lock records ${hex(options.expectedSha256)}; nothing was written and videos.lock is unchanged (--replace regenerates it)`,
      });
    }
    const allowed = options.guard === undefined ? { ok: true as const } : await options.guard(options.dest, sha256);
    if (!allowed.ok) {
      await fsp.rm(tmp, { force: true });
      return err({ code: 'output-not-ours', message: allowed.message });
    }
    await fsp.rename(tmp, options.dest);
    return ok({ bytes, sha256 });
  } catch (e: unknown) {
    // A body that breaks before the file is open rejects the pipeline while
    // the open is still under way: the file appears after a removal made now
    // (the fault soak found such a .tmp left behind). Removed once it closed.
    if (out !== undefined && !out.closed) await Promise.race([once(out, 'close').catch(() => undefined), new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref())]);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    await res.body.cancel().catch(() => undefined);
    if (options.signal?.aborted === true) return err({ code: 'aborted', message: 'interrupted' });
    if (e instanceof NotMedia) return err({ code: 'not-media', message: e.message });
    const local = localWriteErrorOf(e);
    if (local !== undefined) {
      return err({ code: 'write-failed', message: `${describeLocalWrite(local, path.basename(options.dest), dir)}; the file already there is untouched` });
    }
    const message = e instanceof Error ? e.message : String(e);
    return err({ code: 'truncated', message: `${options.variant} of ${options.jobId}: transfer broke off (${message})` });
  }
}

class Truncated extends Error {}

function hex(sha: Sha256): string {
  return sha.replace(/^sha256:/, '');
}

/** The body is not the kind of file asked for: final (downloading it again brings the same bytes). */
class NotMedia extends Error {}

function looksLike(variant: AssetVariant, head: Buffer): boolean {
  return variant === 'video' ? startsLikeMp4(head) : classifyImageBytes(head).kind !== 'other';
}
