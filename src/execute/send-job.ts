import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import type { Video, VideoSeconds, VideoSize } from 'openai/resources/videos';
import type { ProjectPath, Target } from '../manifest/manifest.js';
import type { CharacterId, JobRequest, Sha256 } from '../lock/lockfile.js';
import { locateInProject } from '../manifest/path-safety.js';
import { mimeTypeOf } from './mime.js';

/**
 * The one paid HTTP call for a target, built from the `JobRequest` that was
 * recorded in the lock just before. Always `maxRetries: 0`: the SDK would
 * otherwise resend after a 5xx or a dropped connection, and a create that
 * the server had already accepted would be billed twice. The caller decides
 * what an error means (classify-error.ts) and reconciles before resending.
 *
 * Uploads go through `toFile(stream, name, {type})`, which buffers the file
 * into a Blob with its real MIME type (a bare read stream would go out as
 * application/octet-stream).
 */
export interface SendContext {
  readonly client: OpenAI;
  readonly projectDir: string;
}

const PAID = { maxRetries: 0 } as const;

export async function sendJob(ctx: SendContext, target: Target, request: JobRequest): Promise<Video> {
  const { client } = ctx;
  switch (target.kind) {
    case 'generate': {
      const characters = request.characterIds ?? [];
      const fields = { prompt: request.prompt, model: request.model, size: request.size, seconds: String(request.seconds) };
      const remote = request.inputReference;
      if (remote !== undefined) {
        // A URL or a file id goes as the JSON object the API takes (the SDK's
        // `create` would send it as multipart fields); nothing is read from
        // disk, and the manifest's sha256 pin is vidbuild's, not the API's.
        const input_reference = 'file_id' in remote ? { file_id: remote.file_id } : { image_url: remote.image_url };
        return client.post<Video>('/videos', { ...PAID, body: { ...jsonBody(fields, characters), input_reference } });
      }
      const ref = target.inputReference;
      // Nothing to upload: the JSON body the API takes. The SDK's `create`
      // always builds a multipart form, which costs more on every create and
      // most on a run's first (tens of ms before its first job can start).
      if (ref?.type !== 'file') return client.post<Video>('/videos', { ...PAID, body: jsonBody(fields, characters) });
      const reference = await upload(ctx, ref.path, request.uploadSha256);
      const size = asVideoSize(request.size);
      const seconds = asVideoSeconds(request.seconds);
      if (characters.length === 0 && size !== undefined && seconds !== undefined) {
        return client.videos.create({ prompt: request.prompt, model: request.model, size, seconds, input_reference: reference }, PAID);
      }
      // The SDK's `create` has no `characters` field (and its types only know
      // OpenAI's sizes/seconds); send the same request through the generic post.
      return client.post<Video>('/videos', { ...PAID, body: genericBody(fields, characters, { field: 'input_reference', file: reference }) });
    }
    case 'remix': {
      const source = requireSource(request);
      return client.videos.remix(source, { prompt: request.prompt }, PAID);
    }
    case 'edit': {
      const video = target.source.type === 'file' ? await upload(ctx, target.source.path, request.uploadSha256) : { id: requireSource(request) };
      return client.videos.edit({ prompt: request.prompt, video }, PAID);
    }
    case 'extend': {
      const video = target.source.type === 'file' ? await upload(ctx, target.source.path, request.uploadSha256) : { id: requireSource(request) };
      const seconds = asVideoSeconds(request.seconds);
      if (seconds !== undefined) return client.videos.extend({ prompt: request.prompt, seconds, video }, PAID);
      // Extensions accept 4–20 s; the SDK's type lists only 4/8/12.
      return client.post<Video>('/videos/extensions', {
        ...PAID,
        body: genericBody(
          { prompt: request.prompt, seconds: String(request.seconds) },
          [],
          video instanceof File ? { field: 'video', file: video } : undefined,
          video instanceof File ? undefined : video.id,
        ),
      });
    }
  }
}

function requireSource(request: JobRequest): string {
  if (request.sourceJobId === undefined) throw new Error(`bug: ${request.kind} request without a source job id`);
  return request.sourceJobId;
}

async function upload(ctx: SendContext, rel: ProjectPath, planned: Sha256 | undefined): Promise<File> {
  return readUpload(ctx.projectDir, rel, planned);
}

/**
 * A file to upload could not be read (deleted or replaced by a directory
 * since the plan hashed it, unreadable). Raised before any byte of the paid
 * call is sent, so it is known that nothing was created or billed.
 */
export class UploadReadError extends Error {
  constructor(
    readonly file: string,
    cause: unknown,
    message?: string,
  ) {
    const why = cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : cause instanceof Error ? cause.message : String(cause);
    super(message ?? `cannot read ${file} to upload it (${why}); nothing was sent`, { cause });
  }
}

/**
 * The file to upload, exactly as planned. The plan hashed it into the
 * fingerprint; between then and now it may have been edited, or replaced by
 * a symlink to a file outside the project (`refs/b.png -> ~/.ssh/id_rsa`).
 * So it is opened by its real path, which must be inside the project, read
 * whole (an upload is in memory anyway), and hashed: bytes other than the
 * planned ones are refused before anything is sent, and the lock never says
 * a job was made from a file it was not made from.
 */
export async function readUpload(projectDir: string, rel: ProjectPath, planned: Sha256 | undefined): Promise<File> {
  let where;
  try {
    where = await locateInProject(projectDir, await realpath(projectDir), rel);
  } catch (e: unknown) {
    throw new UploadReadError(rel, e);
  }
  switch (where.kind) {
    case 'missing':
      throw new UploadReadError(rel, undefined, `cannot read ${rel} to upload it (ENOENT); nothing was sent`);
    case 'directory':
      throw new UploadReadError(rel, undefined, `cannot read ${rel} to upload it (EISDIR); nothing was sent`);
    case 'special':
      throw new UploadReadError(rel, undefined, `cannot read ${rel} to upload it (not a regular file); nothing was sent`);
    case 'outside':
      throw new UploadReadError(rel, undefined, `${rel} now leads outside the project through a symlink; vidbuild uploads only files inside the manifest's folder; nothing was sent`);
    case 'file':
      break;
  }
  let bytes: Buffer;
  try {
    // O_NOFOLLOW: the real path was checked; a link swapped in since is not followed.
    const handle = await open(where.real, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (e: unknown) {
    throw new UploadReadError(rel, e);
  }
  if (planned !== undefined) {
    const got = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (got !== planned && got.slice('sha256:'.length) !== planned) {
      throw new UploadReadError(rel, undefined, `${rel} changed since it was planned (sha256 ${shortHash(got)}, planned ${shortHash(planned)}); nothing was sent: run apply again to plan with the new file`);
    }
  }
  return toFile(bytes, path.posix.basename(rel), { type: mimeTypeOf(rel) });
}

function shortHash(h: string): string {
  return h.replace(/^sha256:/, '').slice(0, 12);
}

/**
 * JSON when nothing is uploaded; otherwise multipart encoded the way the SDK
 * encodes nested fields (`characters[][id]`, `video[id]`).
 */
function genericBody(
  fields: Record<string, string>,
  characters: readonly CharacterId[],
  file: { field: string; file: File } | undefined,
  videoId?: string,
): Record<string, unknown> | FormData {
  if (file === undefined) return jsonBody(fields, characters, videoId);
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const id of characters) form.append('characters[][id]', id);
  if (videoId !== undefined) form.append('video[id]', videoId);
  form.append(file.field, file.file, file.file.name);
  return form;
}

function jsonBody(fields: Record<string, string>, characters: readonly CharacterId[], videoId?: string): Record<string, unknown> {
  return {
    ...fields,
    ...(characters.length === 0 ? {} : { characters: characters.map((id) => ({ id })) }),
    ...(videoId === undefined ? {} : { video: { id: videoId } }),
  };
}

const SIZES: readonly VideoSize[] = ['720x1280', '1280x720', '1024x1792', '1792x1024'];
const SECONDS: readonly VideoSeconds[] = ['4', '8', '12'];

function asVideoSize(s: string): VideoSize | undefined {
  return SIZES.find((x) => x === s);
}

function asVideoSeconds(n: number): VideoSeconds | undefined {
  return SECONDS.find((x) => x === String(n));
}
