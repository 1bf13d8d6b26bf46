import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { fontPath, runFfmpeg } from './ffmpeg.js';
import { captionOf, concatArgs, editArgs, generateArgs, spritesheetArgs, thumbnailArgs } from './frame-graph.js';
import { unreachable } from '../core/unreachable.js';
import { renderKey, type RenderSource, type RenderSpec } from './render-spec.js';
import { pidAlive } from '../lock/run-lock.js';
import { LinkFreeTree } from '../core/link-free-tree.js';

/** The three downloadable files of one rendered clip. */
export interface RenderedAssets {
  readonly video: string;
  readonly thumbnail: string;
  readonly spritesheet: string;
}

export interface RenderCacheOptions {
  /** Content-addressed folder of renders; may be shared by several emulators. */
  readonly dir: string;
  /** Where uploaded files live, by sha256. */
  readonly uploadsDir: string;
  readonly fps: number;
  /** ffmpeg processes at once (each is multi-threaded already). */
  readonly concurrency?: number;
  /**
   * The emulator's state folder when `dir` is its own `renders` (then `dir`
   * must be no symlink either), and the project that is in (`--backend
   * emulator`), for messages and to judge a link against.
   */
  readonly within?: { readonly stateDir: string; readonly projectDir: string | undefined };
}

/**
 * Renders each distinct spec at most once: finished renders are files named
 * by the spec's hash, and concurrent requests for the same spec share one
 * in-flight promise. Files are written to a temp name and renamed, so a
 * crash or `stop()` never leaves a half file under a final name. No folder
 * or file below `dir` may be a symlink (core/link-free-tree.ts): `sweep()`
 * refuses one when the emulator starts, and every render checks its folder.
 */
export class RenderCache {
  readonly #opts: RenderCacheOptions;
  readonly #inflight = new Map<string, Promise<RenderedAssets>>();
  readonly #limit: ReturnType<typeof pLimit>;
  readonly #abort = new AbortController();
  readonly #tree: LinkFreeTree;

  constructor(opts: RenderCacheOptions) {
    this.#opts = opts;
    this.#limit = pLimit(opts.concurrency ?? 2);
    this.#tree = new LinkFreeTree(opts.within?.stateDir ?? opts.dir, opts.within?.projectDir);
  }

  /** The frame rate new jobs are rendered at. */
  get fps(): number {
    return this.#opts.fps;
  }

  /**
   * `fps` is the job's own (fixed when it was created), so a restart with
   * another `--fps` never changes the bytes of a job a client already has.
   */
  ensure(spec: RenderSpec, fps: number = this.#opts.fps): Promise<RenderedAssets> {
    const key = renderKey(spec, fps);
    const running = this.#inflight.get(key);
    if (running !== undefined) return running;
    const p = this.#render(key, spec, fps).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  /**
   * Removes the work folders of renders whose emulator died mid-render
   * (kill -9, a crashed `apply --backend emulator`): each holds a partial
   * clip of up to tens of MB and nothing else would ever delete it. Folders
   * of live processes are left alone, as the cache may be shared.
   */
  async sweep(): Promise<void> {
    await this.#tree.folder(this.#opts.dir, true);
    const entries = await fs.readdir(this.#opts.dir, { withFileTypes: true });
    await this.#tree.refuseLinksIn(this.#opts.dir, entries);
    const names = entries.map((d) => d.name);
    const hourAgo = Date.now() - 3_600_000;
    await Promise.all(
      names.map(async (name) => {
        const withPid = /^tmp-(\d+)-[0-9a-f]+$/.exec(name);
        const dir = path.join(this.#opts.dir, name);
        if (withPid !== null) {
          const pid = Number(withPid[1]);
          if (pid === process.pid || pidAlive(pid)) return;
        } else if (/^tmp-[0-9a-f]+$/.test(name)) {
          // Named before pids were: only when clearly abandoned.
          const stat = await fs.stat(dir).catch(() => null);
          if (stat === null || stat.mtimeMs > hourAgo) return;
        } else return;
        await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
      }),
    );
  }

  /** Kills running ffmpeg processes and waits for them to go. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled([...this.#inflight.values()]);
  }

  #paths(key: string): RenderedAssets {
    const base = path.join(this.#opts.dir, key.slice(0, 2), key);
    return { video: `${base}.mp4`, thumbnail: `${base}.webp`, spritesheet: `${base}.jpg` };
  }

  async #render(key: string, spec: RenderSpec, fps: number): Promise<RenderedAssets> {
    const out = this.#paths(key);
    await this.#tree.folder(path.dirname(out.video), true);
    if (await allExist(out)) return out;
    // The pid in the name lets a later emulator tell a dead process's leftovers from a live render.
    const work = path.join(this.#opts.dir, `tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    await fs.mkdir(work, { recursive: true });
    try {
      await fs.symlink(fontPath(), path.join(work, 'font.ttf')).catch(() => fs.copyFile(fontPath(), path.join(work, 'font.ttf')));
      const tmpVideo = path.join(work, 'out.mp4');
      await this.#renderVideo(spec, work, tmpVideo, fps);
      await this.#ffmpeg(thumbnailArgs(tmpVideo, spec.seconds, path.join(work, 'thumb.webp')), work, spec.seconds);
      await this.#ffmpeg(
        spritesheetArgs(tmpVideo, spec.width, spec.height, Math.round(spec.seconds * fps), path.join(work, 'sprite.jpg')),
        work,
        spec.seconds,
      );
      // Video last: `allExist` treats a key as rendered only when all three are there.
      await fs.rename(path.join(work, 'thumb.webp'), out.thumbnail);
      await fs.rename(path.join(work, 'sprite.jpg'), out.spritesheet);
      await fs.rename(tmpVideo, out.video);
      return out;
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  }

  async #renderVideo(spec: RenderSpec, work: string, out: string, fps: number): Promise<void> {
    const fontSize = Math.max(16, Math.round(Math.min(spec.width, spec.height) / 16));
    await fs.writeFile(path.join(work, 'caption.txt'), captionOf(spec.prompt, spec.width, fontSize));
    const text = { caption: 'caption.txt', label: 'label.txt' };
    switch (spec.kind) {
      case 'generate': {
        await fs.writeFile(path.join(work, 'label.txt'), `${spec.label} · ${spec.seconds}s · ${spec.width}x${spec.height}`);
        const reference = spec.reference === null ? null : path.join(this.#opts.uploadsDir, spec.reference);
        await this.#ffmpeg(generateArgs({ ...spec, fps, text, reference, out }), work, spec.seconds);
        return;
      }
      case 'edit': {
        await fs.writeFile(path.join(work, 'label.txt'), `edit · ${spec.seconds}s · ${spec.width}x${spec.height}`);
        const source = await this.#sourceFile(spec.source, fps);
        await this.#ffmpeg(editArgs({ ...spec, fps, text, source, out }), work, spec.seconds);
        return;
      }
      case 'extend': {
        const head = await this.#sourceFile(spec.source, fps);
        const tail = (await this.ensure(spec.tail, fps)).video;
        await this.#ffmpeg(
          concatArgs({
            width: spec.width,
            height: spec.height,
            fps,
            head,
            headSeconds: spec.sourceSeconds,
            tail,
            tailSeconds: spec.tail.seconds,
            out,
          }),
          work,
          spec.seconds,
        );
        return;
      }
      default:
        return unreachable(spec, 'render spec');
    }
  }

  async #sourceFile(source: RenderSource, fps: number): Promise<string> {
    switch (source.kind) {
      case 'render':
        return (await this.ensure(source.spec, fps)).video;
      case 'upload':
        return path.join(this.#opts.uploadsDir, source.sha256);
      default:
        return unreachable(source, 'render source');
    }
  }

  /**
   * Runs one ffmpeg step for a clip of `seconds`, killed past a deadline
   * some 20x what the slowest measured render needs: a step that never ends
   * (a source whose frames stop decoding under `-stream_loop -1`) would
   * otherwise hold a render slot and a core for good, and every download
   * waiting on it would hang until the client gave up.
   */
  #ffmpeg(args: string[], cwd: string, seconds: number): Promise<void> {
    return this.#limit(async () => {
      const deadlineMs = 120_000 + 10_000 * seconds;
      const deadline = AbortSignal.timeout(deadlineMs);
      try {
        await runFfmpeg({ args, cwd, signal: AbortSignal.any([this.#abort.signal, deadline]) });
      } catch (e: unknown) {
        if (deadline.aborted && !this.#abort.signal.aborted) {
          throw new Error(`ffmpeg did not finish a ${seconds} s clip within ${deadlineMs / 1000} s and was stopped`);
        }
        throw e;
      }
    });
  }
}

async function allExist(a: RenderedAssets): Promise<boolean> {
  const found = await Promise.all([a.video, a.thumbnail, a.spritesheet].map((f) => fs.access(f).then(() => true, () => false)));
  return found.every(Boolean);
}
