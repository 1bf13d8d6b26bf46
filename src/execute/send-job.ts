import { createReadStream } from 'node:fs';
import path from 'node:path';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import type { Video, VideoSeconds, VideoSize } from 'openai/resources/videos';
import type { ProjectPath, Target } from '../manifest/manifest.js';
import type { CharacterId, JobRequest } from '../lock/lockfile.js';
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
      const size = asVideoSize(request.size);
      const seconds = asVideoSeconds(request.seconds);
      const reference =
        target.inputReference === undefined ? undefined : await upload(ctx, target.inputReference);
      if (characters.length === 0 && size !== undefined && seconds !== undefined) {
        return client.videos.create(
          {
            prompt: request.prompt,
            model: request.model,
            size,
            seconds,
            ...(reference === undefined ? {} : { input_reference: reference }),
          },
          PAID,
        );
      }
      // The SDK's `create` has no `characters` field (and its types only know
      // OpenAI's sizes/seconds); send the same request through the generic post.
      return client.post<Video>('/videos', {
        ...PAID,
        body: genericBody(
          { prompt: request.prompt, model: request.model, size: request.size, seconds: String(request.seconds) },
          characters,
          reference === undefined ? undefined : { field: 'input_reference', file: reference },
        ),
      });
    }
    case 'remix': {
      const source = requireSource(request);
      return client.videos.remix(source, { prompt: request.prompt }, PAID);
    }
    case 'edit': {
      const video = target.source.type === 'file' ? await upload(ctx, target.source.path) : { id: requireSource(request) };
      return client.videos.edit({ prompt: request.prompt, video }, PAID);
    }
    case 'extend': {
      const video = target.source.type === 'file' ? await upload(ctx, target.source.path) : { id: requireSource(request) };
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

async function upload(ctx: SendContext, rel: ProjectPath): Promise<File> {
  return readUpload(path.join(ctx.projectDir, rel), rel);
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
  ) {
    const why = cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : String(cause);
    super(`cannot read ${file} to upload it (${why}); nothing was sent`, { cause });
  }
}

/** The whole file, with its real MIME type, as the SDK uploads it. */
export async function readUpload(abs: string, shown: string): Promise<File> {
  try {
    return await toFile(createReadStream(abs), path.basename(abs), { type: mimeTypeOf(abs) });
  } catch (e: unknown) {
    throw new UploadReadError(shown, e);
  }
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
  if (file === undefined) {
    return {
      ...fields,
      ...(characters.length === 0 ? {} : { characters: characters.map((id) => ({ id })) }),
      ...(videoId === undefined ? {} : { video: { id: videoId } }),
    };
  }
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const id of characters) form.append('characters[][id]', id);
  if (videoId !== undefined) form.append('video[id]', videoId);
  form.append(file.field, file.file, file.file.name);
  return form;
}

const SIZES: readonly VideoSize[] = ['720x1280', '1280x720', '1024x1792', '1792x1024'];
const SECONDS: readonly VideoSeconds[] = ['4', '8', '12'];

function asVideoSize(s: string): VideoSize | undefined {
  return SIZES.find((x) => x === s);
}

function asVideoSeconds(n: number): VideoSeconds | undefined {
  return SECONDS.find((x) => x === String(n));
}
