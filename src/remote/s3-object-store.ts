import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { BuildMiddleware, MetadataBearer } from '@aws-sdk/types';
import { err, ok, type Result } from '../core/result.js';
import type { RemoteLocation } from '../manifest/remote-url.js';
import type { ObjectStore, PutOutcome, RemoteError, StoredObject } from './object-store.js';

export interface S3Settings {
  readonly location: RemoteLocation;
  /** e.g. `http://127.0.0.1:9000` for MinIO or R2's account endpoint; absent for AWS. */
  readonly endpoint?: string;
  readonly region?: string;
  /** Path-style URLs (`endpoint/bucket/key`); what most S3-compatible servers want. */
  readonly forcePathStyle: boolean;
}

// Multipart parts of 5 MiB (S3's minimum), two in flight: lib-storage holds about three parts, so a
// 200 MB asset costs ~15-25 MiB of buffers above a 5 MB one (bench/remote.bench.mjs: within 1.5x).
const PART_SIZE = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;

/** The remote over the official SDK. Credentials come from the SDK's default chain, never from us. */
export function createS3ObjectStore(settings: S3Settings): ObjectStore {
  // The SDK warns on stderr, once per process, that a future release will need Node 22; that
  // is about upgrading our dependency, not something a user of vidbuild can act on.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const client = new S3Client({
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    region: settings.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
    forcePathStyle: settings.forcePathStyle,
    // A remote that is down must cost seconds, not the SDK's minutes of retries.
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
  });
  if (settings.forcePathStyle) client.middlewareStack.add(bucketPathWithoutSlash, { step: 'build', name: 'vidbuildBucketPathWithoutSlash' });
  const { bucket, prefix, url } = settings.location;
  const key = (relative: string): string => `${prefix}${relative}`;
  const fail = (error: unknown): { ok: false; error: RemoteError } => err(classifyS3Error(error, url, settings.endpoint));

  return {
    url,
    async probe() {
      try {
        // A one-key listing, not HeadBucket: it proves the permission the cache needs, and
        // HeadBucket's bodiless 403/404 cannot tell a missing bucket from a refused key.
        // Under a prefix that holds nothing: s3rver answers a truncated listing with a 500.
        await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}.vidbuild-probe/`, MaxKeys: 1 }));
        return ok(undefined);
      } catch (error) {
        return fail(error);
      }
    },
    async getText(relative) {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key(relative) }));
        return ok(answer.Body === undefined ? '' : await answer.Body.transformToString('utf8'));
      } catch (error) {
        return isNotFound(error) ? ok(undefined) : fail(error);
      }
    },
    async getStream(relative) {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key(relative) }));
        const body = answer.Body;
        if (!(body instanceof Readable)) return err({ code: 'failed', message: `${url}: ${relative} came back without a body` });
        return ok({ body, bytes: answer.ContentLength ?? -1 });
      } catch (error) {
        return isNotFound(error) ? ok(undefined) : fail(error);
      }
    },
    async head(relative) {
      try {
        const answer = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key(relative) }));
        const etag = answer.ETag?.replace(/"/g, '');
        return ok({ key: relative, bytes: answer.ContentLength ?? 0, lastModified: answer.LastModified ?? new Date(0), ...(etag === undefined ? {} : { etag }) });
      } catch (error) {
        return isNotFound(error) ? ok(undefined) : fail(error);
      }
    },
    async putText(relative, body, options) {
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key(relative),
            Body: body,
            ContentType: 'application/json',
            ...(options?.ifNoneMatch === true ? { IfNoneMatch: '*' } : {}),
          }),
        );
        return ok<PutOutcome>('created');
      } catch (error) {
        // 412: a server with conditional writes found the key there; 409: a concurrent conditional write won.
        const status = httpStatus(error);
        if (options?.ifNoneMatch === true && (status === 412 || status === 409)) return ok<PutOutcome>('exists');
        return fail(error);
      }
    },
    async putFile(relative, filePath, bytes) {
      try {
        const upload = new Upload({
          client,
          params: { Bucket: bucket, Key: key(relative), Body: createReadStream(filePath), ContentLength: bytes },
          partSize: PART_SIZE,
          queueSize: PARTS_IN_FLIGHT,
          leavePartsOnError: false,
        });
        await upload.done();
        return ok(undefined);
      } catch (error) {
        return fail(error);
      }
    },
    async list(relativePrefix) {
      try {
        const found: StoredObject[] = [];
        for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: key(relativePrefix) })) {
          for (const item of page.Contents ?? []) {
            if (item.Key === undefined) continue;
            found.push({ key: item.Key.slice(prefix.length), bytes: item.Size ?? 0, lastModified: item.LastModified ?? new Date(0) });
          }
        }
        return ok(found);
      } catch (error) {
        return fail(error);
      }
    },
    async delete(relative) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key(relative) }));
        return ok(undefined);
      } catch (error) {
        return isNotFound(error) ? ok(undefined) : fail(error);
      }
    },
  };
}

/**
 * Path-style bucket requests (list) go out as `/bucket` rather than the SDK's `/bucket/`. S3,
 * MinIO and R2 take both; s3rver (the server the tests run) signs the canonical URI without
 * the slash and would refuse every listing as SignatureDoesNotMatch. It runs before signing.
 */
const bucketPathWithoutSlash: BuildMiddleware<object, MetadataBearer> = (next) => async (args) => {
  const request = args.request as { path?: unknown };
  if (typeof request.path === 'string' && /^\/[^/]+\/$/.test(request.path)) request.path = request.path.slice(0, -1);
  return next(args);
};

function errorName(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const record = error as { name?: unknown; Code?: unknown; code?: unknown };
  for (const value of [record.Code, record.name, record.code]) if (typeof value === 'string') return value;
  return '';
}

function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const meta = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata;
  return typeof meta?.httpStatusCode === 'number' ? meta.httpStatusCode : undefined;
}

function isNotFound(error: unknown): boolean {
  const name = errorName(error);
  return name === 'NoSuchKey' || (name === 'NotFound' && httpStatus(error) === 404);
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'TimeoutError', 'RequestTimeout']);
const CREDENTIALS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired', 'CredentialsProviderError', 'AuthorizationHeaderMalformed']);

/**
 * One line in the user's terms. Messages name the remote and the endpoint,
 * never the credentials: the SDK's own text can quote a key id, so only its
 * error name is passed on.
 */
export function classifyS3Error(error: unknown, url: string, endpoint: string | undefined): RemoteError {
  const name = errorName(error);
  const cause = (error as { cause?: unknown } | null)?.cause;
  const causeName = errorName(cause);
  const where = endpoint === undefined ? url : `${url} (endpoint ${endpoint})`;
  if (UNREACHABLE.has(name) || UNREACHABLE.has(causeName) || (httpStatus(error) === undefined && /ECONNREFUSED|socket hang up|ETIMEDOUT/.test(String((error as Error)?.message)))) {
    return { code: 'unreachable', message: `remote ${where} is unreachable (${name || causeName || 'no answer'})` };
  }
  if (CREDENTIALS.has(name)) return { code: 'credentials', message: `remote ${where} refused the credentials (${name}); check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or your AWS profile` };
  if (name === 'NoSuchBucket' || (name === 'NotFound' && httpStatus(error) === 404)) return { code: 'no-bucket', message: `remote ${where}: bucket does not exist` };
  if (name === 'AccessDenied' || httpStatus(error) === 403) return { code: 'denied', message: `remote ${where}: access denied (${name || 403})` };
  const status = httpStatus(error);
  return { code: 'failed', message: `remote ${where} failed: ${name || 'error'}${status === undefined ? '' : ` (HTTP ${status})`}` };
}
