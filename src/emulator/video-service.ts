import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import { unreachable } from '../core/unreachable.js';
import { characterVideoProblem } from '../core/character-video.js';
import { invalid, missing, notFound, type ApiError } from './api-error.js';
import { baseModel, type Capabilities } from './capabilities.js';
import type { ApiLimits } from '../core/api-limits.js';
import pLimit from 'p-limit';
import { decodesAFrame } from './ffmpeg.js';
import { inputReferenceParam, referenceImageProblem } from './input-reference.js';
import { referenceStill } from './reference-still.js';
import { phaseAt, scheduleNext, type Outcome } from './lifecycle.js';
import { probeMp4 } from './mp4-probe.js';
import { characterIds, limitedString, optionalEnum, optionalString, rejectUnknown, videoInput, type VideoInput } from './params.js';
import type { RenderCache } from './render-cache.js';
import { seedOf, type RenderSource, type RenderSpec } from './render-spec.js';
import { isUploadedFile, type BodyObject } from './request-body.js';
import type { CharacterRecord, JobKind, JobRecord, StateStore } from './state-store.js';
import { expiresAtMs, videoJson, type VideoJson } from './video-view.js';

/**
 * The Videos API's behaviour, independent of HTTP: validation, the job
 * lifecycle, lineage (remix / edit / extend), characters and content. Every
 * change is persisted before the method returns, so by the time a response
 * could be lost the job already exists.
 */

export interface ServiceOptions {
  readonly jobSeconds: number;
  readonly maxRunning: number;
  readonly assetTtlSeconds: number;
  /** When set, jobs that would complete end in this status instead. */
  readonly endStatus: string | null;
  readonly capabilities: Capabilities;
  /** The spec's lengths and ranges (data/api-limits.json). */
  readonly limits: ApiLimits;
}

export interface ListPage {
  readonly object: 'list';
  readonly data: readonly VideoJson[];
  readonly first_id: string | null;
  readonly last_id: string | null;
  readonly has_more: boolean;
}

export interface CharacterJson {
  readonly id: string;
  readonly created_at: number;
  readonly name: string;
}

export type Variant = 'video' | 'thumbnail' | 'spritesheet';

export interface ContentFile {
  readonly path: string;
  readonly contentType: string;
  readonly size: number;
}

const CONTENT_TYPES: Record<Variant, string> = { video: 'video/mp4', thumbnail: 'image/webp', spritesheet: 'image/jpeg' };
const FAIL_MARKER = /\[\[fail:([A-Za-z0-9_.-]+)\]\]/;

export class VideoService {
  readonly #store: StateStore;
  readonly #renders: RenderCache;
  readonly #opts: ServiceOptions;
  readonly #now: () => number;
  /** Decode checks by upload sha256, done or running: a reference sent with every create is checked once. */
  readonly #decodable = new Map<string, Promise<boolean>>();
  /** Decode checks at once: 60 parallel creates must not start 60 ffmpeg processes on 2 cores. */
  readonly #checks = pLimit(2);

  constructor(store: StateStore, renders: RenderCache, opts: ServiceOptions, now: () => number = Date.now) {
    this.#store = store;
    this.#renders = renders;
    this.#opts = opts;
    this.#now = now;
  }

  // ── create ────────────────────────────────────────────────────────────

  async create(body: BodyObject): Promise<Result<VideoJson, ApiError>> {
    const caps = this.#opts.capabilities;
    const unknown = rejectUnknown(body, ['prompt', 'model', 'seconds', 'size', 'input_reference', 'characters']);
    if (unknown !== null) return err(unknown);
    const prompt = limitedString(body, 'prompt', this.#opts.limits.prompt);
    if (!prompt.ok) return prompt;
    const modelName = optionalString(body, 'model');
    if (!modelName.ok) return modelName;
    const model = modelName.value ?? caps.defaults.model;
    const base = baseModel(caps, model);
    if (base === null) {
      return err(invalid('model', `Invalid value: '${model}'. Supported values are: ${[...caps.models.keys()].map((m) => `'${m}'`).join(', ')}.`));
    }
    const offered = caps.models.get(base) ?? { sizes: [], seconds: [] };
    const seconds = optionalEnum(body, 'seconds', offered.seconds.map(String));
    if (!seconds.ok) return seconds;
    const size = optionalEnum(body, 'size', caps.allSizes);
    if (!size.ok) return size;
    const sizeValue = size.value ?? caps.defaults.size;
    if (!offered.sizes.includes(sizeValue)) {
      return err(invalid('size', `Size '${sizeValue}' is not supported by model '${model}'. Supported sizes: ${offered.sizes.join(', ')}.`));
    }
    const { width, height } = parseSize(sizeValue);
    const reference = await this.#reference(body, width, height);
    if (!reference.ok) return reference;
    const chars = this.#characters(body, prompt.value);
    if (!chars.ok) return chars;
    const secondsValue = Number(seconds.value ?? caps.defaults.seconds);
    const render: RenderSpec = {
      kind: 'generate',
      width,
      height,
      seconds: secondsValue,
      prompt: prompt.value,
      seed: seedOf('create', base, sizeValue, secondsValue, prompt.value, reference.value, chars.value),
      label: 'generate',
      reference: reference.value,
    };
    return ok(await this.#addJob({ kind: 'create', model, size: sizeValue, seconds: secondsValue, prompt: prompt.value, remixedFrom: null, extensionCount: 0, render, characters: chars.value }));
  }

  /**
   * Stores an `input_reference` image after checking its type and size, or
   * the still a URL or file id stands for; returns the stored image's sha256.
   */
  async #reference(body: BodyObject, width: number, height: number): Promise<Result<string | null, ApiError>> {
    const ref = inputReferenceParam(body, this.#opts.limits);
    if (!ref.ok) return ref;
    const r = ref.value;
    if (r === null) return ok(null);
    switch (r.kind) {
      case 'image_url':
        return ok(await this.#saveUpload(referenceStill(`image_url\0${r.url}`, width, height)));
      case 'file_id':
        return ok(await this.#saveUpload(referenceStill(`file_id\0${r.fileId}`, width, height)));
      case 'image':
        break;
      default:
        return unreachable(r, 'input reference');
    }
    const problem = referenceImageProblem(r.bytes, r.declaredType, width, height);
    if (problem !== null) return err(problem);
    const sha256 = await this.#saveUpload(r.bytes);
    // A right header over a broken body passed, the job completed, and every download of it was a 500.
    if (!(await this.#decodes(sha256))) {
      return err(invalid('input_reference', "Invalid file for 'input_reference': the image could not be decoded.", 'invalid_image_file'));
    }
    return ok(sha256);
  }

  #characters(body: BodyObject, prompt: string): Result<readonly string[], ApiError> {
    const ids = characterIds(body, 'characters', this.#opts.capabilities.maxCharactersPerVideo);
    if (!ids.ok) return ids;
    for (const id of ids.value) {
      const c = this.#store.characters.get(id);
      if (c === undefined) return err(invalid('characters', `Character '${id}' not found.`, 'character_not_found'));
      if (!prompt.includes(c.name)) {
        return err(invalid('prompt', `The prompt must mention character '${c.name}' (${id}) by name, verbatim.`, 'character_not_in_prompt'));
      }
    }
    return ok(ids.value);
  }

  // ── remix / edit / extend ─────────────────────────────────────────────

  async remix(id: string, body: BodyObject): Promise<Result<VideoJson, ApiError>> {
    const unknown = rejectUnknown(body, ['prompt']);
    if (unknown !== null) return err(unknown);
    const source = this.#completedSource(id, null);
    if (!source.ok) return source;
    const prompt = limitedString(body, 'prompt', this.#opts.limits.prompt);
    if (!prompt.ok) return prompt;
    const s = source.value;
    const render: RenderSpec = {
      kind: 'generate',
      width: s.render.width,
      height: s.render.height,
      seconds: s.seconds,
      prompt: prompt.value,
      seed: seedOf('remix', s.render, prompt.value),
      label: 'remix',
      reference: null,
    };
    return ok(await this.#addJob({ kind: 'remix', model: s.model, size: s.size, seconds: s.seconds, prompt: prompt.value, remixedFrom: s.id, extensionCount: s.extensionCount, render, characters: [] }));
  }

  async edit(body: BodyObject): Promise<Result<VideoJson, ApiError>> {
    const unknown = rejectUnknown(body, ['prompt', 'video']);
    if (unknown !== null) return err(unknown);
    const prompt = limitedString(body, 'prompt', this.#opts.limits.prompt);
    if (!prompt.ok) return prompt;
    const video = videoInput(body, 'video');
    if (!video.ok) return video;
    const src = await this.#resolveVideo(video.value);
    if (!src.ok) return src;
    const { source, width, height, seconds, model, extensionCount } = src.value;
    const render: RenderSpec = { kind: 'edit', width, height, seconds, prompt: prompt.value, seed: seedOf('edit', source, prompt.value), source };
    return ok(await this.#addJob({ kind: 'edit', model, size: `${width}x${height}`, seconds, prompt: prompt.value, remixedFrom: null, extensionCount, render, characters: [] }));
  }

  async extend(body: BodyObject): Promise<Result<VideoJson, ApiError>> {
    const ext = this.#opts.capabilities.extension;
    for (const refused of ['characters', 'input_reference']) {
      if (body[refused] !== undefined) return err(invalid(refused, `Extensions do not accept '${refused}'.`, 'unsupported_parameter'));
    }
    const unknown = rejectUnknown(body, ['prompt', 'seconds', 'video']);
    if (unknown !== null) return err(unknown);
    const prompt = limitedString(body, 'prompt', this.#opts.limits.prompt);
    if (!prompt.ok) return prompt;
    if (body['seconds'] === undefined) return err(missing('seconds'));
    // An enum, as the SDK types it ('4' | '8' | '12' | '16' | '20'): '5' is refused like on create.
    const seconds = optionalEnum(body, 'seconds', ext.seconds.map(String));
    if (!seconds.ok) return seconds;
    const added = Number(seconds.value);
    const video = videoInput(body, 'video');
    if (!video.ok) return video;
    const src = await this.#resolveVideo(video.value);
    if (!src.ok) return src;
    const { source, width, height, model } = src.value;
    if (src.value.extensionCount + 1 > ext.maxCount) {
      return err(invalid('video', `A video can be extended at most ${ext.maxCount} times; this one already was ${src.value.extensionCount} times.`, 'extension_limit'));
    }
    const total = src.value.seconds + added;
    if (total > ext.maxTotalSeconds) {
      return err(invalid('seconds', `An extended video can be at most ${ext.maxTotalSeconds} s long: ${src.value.seconds} s + ${added} s = ${total} s.`, 'extension_limit'));
    }
    const seed = seedOf('extend', source, added, prompt.value);
    const tail: RenderSpec = { kind: 'generate', width, height, seconds: added, prompt: prompt.value, seed, label: 'extension', reference: null };
    const render: RenderSpec = { kind: 'extend', width, height, seconds: total, prompt: prompt.value, seed, source, sourceSeconds: src.value.seconds, tail };
    return ok(await this.#addJob({ kind: 'extend', model, size: `${width}x${height}`, seconds: total, prompt: prompt.value, remixedFrom: null, extensionCount: src.value.extensionCount + 1, render, characters: [] }));
  }

  #completedSource(id: string, param: string | null): Result<JobRecord, ApiError> {
    const job = this.#live(id);
    if (job === undefined) return err(notFound(`Video with id '${id}' not found.`));
    const status = videoJson(job, this.#now()).status;
    if (status !== 'completed') {
      return err(invalid(param, `Video '${id}' is not completed (status: ${status}); only completed videos can be used as a source.`, 'video_not_completed'));
    }
    return ok(job);
  }

  async #resolveVideo(input: VideoInput): Promise<Result<{ source: RenderSource; width: number; height: number; seconds: number; model: string; extensionCount: number }, ApiError>> {
    switch (input.kind) {
      case 'id': {
        const job = this.#completedSource(input.id, 'video');
        if (!job.ok) return job;
        const j = job.value;
        return ok({ source: { kind: 'render', spec: j.render }, width: j.render.width, height: j.render.height, seconds: j.seconds, model: j.model, extensionCount: j.extensionCount });
      }
      case 'file': {
        const info = probeMp4(input.file.bytes);
        if (info === null) return err(invalid('video', "Invalid file for 'video': expected an MP4 video.", 'unsupported_file_type'));
        const sha256 = await this.#saveVideoUpload(input.file.bytes);
        if (sha256 === null) return err(undecodable());
        // An upload's frames are fitted into the nearest supported orientation.
        const size = info.width >= info.height ? { width: 1280, height: 720 } : { width: 720, height: 1280 };
        const seconds = Math.max(1, Math.round(info.seconds));
        return ok({ source: { kind: 'upload', sha256 }, ...size, seconds, model: this.#opts.capabilities.defaults.model, extensionCount: 0 });
      }
      default:
        return unreachable(input, 'video input');
    }
  }

  // ── read, list, delete ────────────────────────────────────────────────

  retrieve(id: string): Result<VideoJson, ApiError> {
    const job = this.#live(id);
    if (job === undefined) return err(notFound(`Video with id '${id}' not found.`));
    return ok(videoJson(job, this.#now()));
  }

  list(query: URLSearchParams): Result<ListPage, ApiError> {
    for (const key of query.keys()) {
      if (!['after', 'limit', 'order'].includes(key)) return err(invalid(key, `Unknown parameter: '${key}'.`, 'unknown_parameter'));
    }
    const { listLimit, listOrder } = this.#opts.limits;
    const order = query.get('order') ?? 'desc';
    if (!listOrder.includes(order)) return err(invalid('order', `Invalid value: '${order}'. Supported values are: ${listOrder.map((o) => `'${o}'`).join(', ')}.`));
    const limitText = query.get('limit') ?? String(listLimit.default);
    const limit = Number(limitText);
    // The spec's range is 0..100: `limit=0` is a valid (empty) page that says whether there are jobs at all.
    if (!/^\d+$/.test(limitText) || limit < listLimit.minimum || limit > listLimit.maximum) {
      return err(invalid('limit', `Invalid 'limit': expected an integer from ${listLimit.minimum} to ${listLimit.maximum} (got '${limitText}').`));
    }
    let jobs = [...this.#store.jobs.values()].sort((a, b) => a.seq - b.seq);
    if (order === 'desc') jobs.reverse();
    const after = query.get('after');
    if (after !== null) {
      // A cursor deleted while a client pages (another process pruning) still
      // marks a place: positions come from every job, deleted ones included.
      // An id this server never made is answered with an empty last page, not
      // an error: the spec says nothing of unknown cursors, and an empty page
      // ends every client's paging loop (the SDK's auto-pager, vidbuild's
      // reconcile) where a 400 would fail a search that only needed to stop.
      const at = jobs.findIndex((j) => j.id === after);
      jobs = at < 0 ? [] : jobs.slice(at + 1);
    }
    jobs = jobs.filter((j) => j.deletedAtMs === null);
    const now = this.#now();
    const data = jobs.slice(0, limit).map((j) => videoJson(j, now));
    return ok({ object: 'list', data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: jobs.length > limit });
  }

  async delete(id: string): Promise<Result<{ id: string; object: 'video.deleted'; deleted: true }, ApiError>> {
    const job = this.#live(id);
    if (job === undefined) return err(notFound(`Video with id '${id}' not found.`));
    if (phaseAt(job.schedule, this.#now()).kind !== 'ended') {
      return err(invalid(null, `Video '${id}' is still ${videoJson(job, this.#now()).status}; only completed or failed videos can be deleted.`, 'video_not_finished'));
    }
    this.#store.jobs.set(id, { ...job, deletedAtMs: this.#now() });
    await this.#store.save();
    return ok({ id, object: 'video.deleted', deleted: true });
  }

  // ── content ───────────────────────────────────────────────────────────

  async content(id: string, variantText: string | null): Promise<Result<ContentFile, ApiError>> {
    const variant = variantText ?? 'video';
    if (variant !== 'video' && variant !== 'thumbnail' && variant !== 'spritesheet') {
      return err(invalid('variant', `Invalid value: '${variant}'. Supported values are: 'video', 'thumbnail', 'spritesheet'.`));
    }
    const job = this.#live(id);
    if (job === undefined) return err(notFound(`Video with id '${id}' not found.`));
    const now = this.#now();
    const status = videoJson(job, now).status;
    if (status !== 'completed') return err(notFound(`Video '${id}' has no content (status: ${status}).`));
    if (now >= expiresAtMs(job)) return err(notFound(`The content of video '${id}' has expired.`));
    const assets = await this.#renders.ensure(job.render, job.fps);
    const file = assets[variant];
    const stat = await fs.stat(file);
    return ok({ path: file, contentType: CONTENT_TYPES[variant], size: stat.size });
  }

  /** Starts rendering a completed job in the background so its download is quick. */
  warm(id: string): void {
    const job = this.#live(id);
    if (job === undefined || videoJson(job, this.#now()).status !== 'completed') return;
    // A failed background render is reported by the download that needs it.
    this.#renders.ensure(job.render, job.fps).catch(() => undefined);
  }

  // ── characters ────────────────────────────────────────────────────────

  async createCharacter(body: BodyObject): Promise<Result<CharacterJson, ApiError>> {
    const unknown = rejectUnknown(body, ['name', 'video']);
    if (unknown !== null) return err(unknown);
    // The spec's CreateCharacterRequest: name is 1 to 80 characters.
    const name = limitedString(body, 'name', this.#opts.limits.characterName);
    if (!name.ok) return name;
    const video = body['video'];
    if (video === undefined) return err(missing('video'));
    if (!isUploadedFile(video)) return err(invalid('video', "Invalid 'video': expected an uploaded MP4 file.", 'invalid_type'));
    const info = probeMp4(video.bytes);
    if (info === null) return err(invalid('video', "Invalid file for 'video': expected an MP4 video.", 'unsupported_file_type'));
    // The same judgement (and limits) as validate's, so a manifest that passes is accepted here.
    const problem = characterVideoProblem(info, this.#opts.capabilities.characterVideo);
    if (problem !== undefined) return err(invalid('video', `The video ${problem}.`));
    const videoSha256 = await this.#saveVideoUpload(video.bytes);
    if (videoSha256 === null) return err(undecodable());
    const record: CharacterRecord = {
      id: `char_${randomBytes(16).toString('hex')}`,
      name: name.value,
      createdAtMs: this.#now(),
      videoSha256,
    };
    this.#store.characters.set(record.id, record);
    await this.#store.save();
    return ok(characterJson(record));
  }

  getCharacter(id: string): Result<CharacterJson, ApiError> {
    const c = this.#store.characters.get(id);
    if (c === undefined) return err(notFound(`Character with id '${id}' not found.`));
    return ok(characterJson(c));
  }

  // ── shared ────────────────────────────────────────────────────────────

  /** Counts of jobs by current status (plus `deleted`), for `/__emulator/stats`. */
  jobCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    const now = this.#now();
    for (const j of this.#store.jobs.values()) {
      const key = j.deletedAtMs === null ? videoJson(j, now).status : 'deleted';
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  #live(id: string): JobRecord | undefined {
    const job = this.#store.jobs.get(id);
    return job === undefined || job.deletedAtMs !== null ? undefined : job;
  }

  async #addJob(j: {
    kind: JobKind;
    model: string;
    size: string;
    seconds: number;
    prompt: string;
    remixedFrom: string | null;
    extensionCount: number;
    render: RenderSpec;
    characters: readonly string[];
  }): Promise<VideoJson> {
    const now = this.#now();
    const schedule = scheduleNext(
      [...this.#store.jobs.values()].map((x) => x.schedule),
      now,
      this.#opts.jobSeconds * 1000,
      this.#opts.maxRunning,
    );
    const record: JobRecord = {
      ...j,
      id: `video_${randomBytes(24).toString('hex')}`,
      seq: this.#store.takeSeq(),
      schedule,
      outcome: this.#outcomeFor(j.prompt),
      assetTtlSeconds: this.#opts.assetTtlSeconds,
      fps: this.#renders.fps,
      deletedAtMs: null,
    };
    this.#store.jobs.set(record.id, record);
    await this.#store.save();
    return videoJson(record, now);
  }

  #outcomeFor(prompt: string): Outcome {
    const fail = FAIL_MARKER.exec(prompt);
    if (fail?.[1] !== undefined) {
      return { kind: 'failed', code: fail[1], message: `Generation failed with ${fail[1]} (requested by [[fail:${fail[1]}]] in the prompt).` };
    }
    const end = this.#opts.endStatus;
    if (end === null || end === 'completed') return { kind: 'completed' };
    if (end === 'failed') return { kind: 'failed', code: 'emulator_end_status', message: 'Generation failed (emulator --end-status failed).' };
    return { kind: 'other', status: end };
  }

  /**
   * Stores an uploaded video; null when ffmpeg cannot decode a frame of it.
   * The refused file stays (uploads are content-addressed and shared, and
   * deleting one an earlier job uses would lose that job's source).
   */
  async #saveVideoUpload(bytes: Uint8Array): Promise<string | null> {
    const sha256 = await this.#saveUpload(bytes);
    return (await this.#decodes(sha256)) ? sha256 : null;
  }

  #decodes(sha256: string): Promise<boolean> {
    let check = this.#decodable.get(sha256);
    if (check === undefined) {
      check = this.#checks(() => decodesAFrame(path.join(this.#store.uploadsDir, sha256)));
      this.#decodable.set(sha256, check);
      // A refusal is not remembered: a timeout under load must not refuse the file for good.
      void check.then((ok) => ok || this.#decodable.delete(sha256));
    }
    return check;
  }

  async #saveUpload(bytes: Uint8Array): Promise<string> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const file = path.join(this.#store.uploadsDir, sha256);
    const exists = await fs.access(file).then(() => true, () => false);
    if (!exists) {
      const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      await fs.writeFile(tmp, bytes);
      await fs.rename(tmp, file);
    }
    return sha256;
  }
}

const undecodable = (): ApiError => invalid('video', "Invalid file for 'video': no frame of its video could be decoded.", 'invalid_video_file');

function parseSize(size: string): { width: number; height: number } {
  const [w, h] = size.split('x').map(Number);
  return { width: w ?? 0, height: h ?? 0 };
}

function characterJson(c: CharacterRecord): CharacterJson {
  return { id: c.id, created_at: Math.floor(c.createdAtMs / 1000), name: c.name };
}
