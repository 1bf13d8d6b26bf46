import type { Readable } from 'node:stream';
import type { Result } from '../core/result.js';

/**
 * Why a remote call failed, in the user's terms. Every message is one line
 * and never carries a credential: it names the bucket and the endpoint only.
 *
 * - `unreachable`: the endpoint did not answer (down, DNS, refused, timed out);
 * - `credentials`: the server refused who we are (bad key, bad signature, expired token);
 * - `no-bucket`: the bucket does not exist;
 * - `denied`: the credentials are valid but may not do this;
 * - `failed`: anything else the server said.
 */
export type RemoteErrorCode = 'unreachable' | 'credentials' | 'no-bucket' | 'denied' | 'failed';

export interface RemoteError {
  readonly code: RemoteErrorCode;
  readonly message: string;
}

export interface StoredObject {
  readonly key: string;
  readonly bytes: number;
  readonly lastModified: Date;
  /** The server's ETag without quotes (a HEAD's; S3 makes it the MD5 of the bytes for a single-part upload), when it gave one. */
  readonly etag?: string;
}

/** `created`, or `exists` when a conditional write found the key already there. */
export type PutOutcome = 'created' | 'exists';

/**
 * The few object operations the shared cache and lock need, over keys
 * relative to the remote's prefix. One implementation speaks S3 through the
 * official SDK (`s3-object-store.ts`); keeping the rest of vidbuild on this
 * interface keeps the SDK's types and errors at the edge.
 */
export interface ObjectStore {
  /** For messages: `s3://bucket/prefix`. */
  readonly url: string;
  /** Checks the bucket is there and we may use it. */
  probe(): Promise<Result<void, RemoteError>>;
  /** Small JSON-ish bodies (index entries, claims); `undefined` when absent. */
  getText(key: string): Promise<Result<string | undefined, RemoteError>>;
  /** A streamed body; `undefined` when absent. The caller must consume or destroy it. */
  getStream(key: string): Promise<Result<{ readonly body: Readable; readonly bytes: number } | undefined, RemoteError>>;
  head(key: string): Promise<Result<StoredObject | undefined, RemoteError>>;
  /**
   * A small body. With `ifNoneMatch`, sends `If-None-Match: *` so a server
   * that implements conditional writes answers `exists` instead of
   * overwriting; a server that ignores the header overwrites, which is why
   * the lock protocol does not rely on it alone (see `remote-claims.ts`).
   */
  putText(key: string, body: string, options?: { readonly ifNoneMatch?: boolean }): Promise<Result<PutOutcome, RemoteError>>;
  /** A file, streamed (multipart above a part size), so memory stays flat for any size. */
  putFile(key: string, filePath: string, bytes: number): Promise<Result<void, RemoteError>>;
  list(prefix: string): Promise<Result<readonly StoredObject[], RemoteError>>;
  delete(key: string): Promise<Result<void, RemoteError>>;
}
