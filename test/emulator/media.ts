import { execFile } from 'node:child_process';
import { chmod, access, constants, mkdtemp, writeFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { promisify } from 'node:util';

/** Media checks for tests: ffprobe (devDependency) parses what the emulator served. */

const run = promisify(execFile);
const require = createRequire(import.meta.url);

let ffprobe: Promise<string> | undefined;

/** The ffprobe binary; npm may have skipped the chmod, so make it executable here. */
export function ffprobePath(): Promise<string> {
  ffprobe ??= (async () => {
    const mod: unknown = require('@ffprobe-installer/ffprobe');
    if (typeof mod !== 'object' || mod === null || !('path' in mod) || typeof mod.path !== 'string') {
      throw new Error('@ffprobe-installer/ffprobe exports no path');
    }
    const p = mod.path;
    await access(p, constants.X_OK).catch(() => chmod(p, 0o755));
    return p;
  })();
  return ffprobe;
}

export interface VideoFacts {
  readonly codec: string;
  readonly pixFmt: string;
  readonly width: number;
  readonly height: number;
  readonly duration: number;
}

async function withTempFile<T>(bytes: Uint8Array, ext: string, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-media-'));
  try {
    const file = path.join(dir, `media.${ext}`);
    await writeFile(file, bytes);
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function probeVideo(bytes: Uint8Array): Promise<VideoFacts> {
  return withTempFile(bytes, 'mp4', async (file) => {
    const { stdout } = await run(await ffprobePath(), [
      '-v', 'error', '-select_streams', 'v:0',
      '-show_entries', 'stream=codec_name,pix_fmt,width,height,duration',
      '-of', 'json', file,
    ]);
    const parsed: unknown = JSON.parse(stdout);
    const stream: unknown =
      typeof parsed === 'object' && parsed !== null && 'streams' in parsed && Array.isArray(parsed.streams) ? parsed.streams[0] : undefined;
    if (typeof stream !== 'object' || stream === null) throw new Error('ffprobe found no video stream');
    const get = (k: string): unknown => (k in stream ? Object.getOwnPropertyDescriptor(stream, k)?.value : undefined);
    return {
      codec: String(get('codec_name')),
      pixFmt: String(get('pix_fmt')),
      width: Number(get('width')),
      height: Number(get('height')),
      duration: Number(get('duration')),
    };
  });
}

/** Mean RGB of the frame at `seconds`, via ffmpeg scaling it to one pixel. */
export async function meanColor(bytes: Uint8Array, seconds: number): Promise<readonly [number, number, number]> {
  const ffmpegMod: unknown = require('@ffmpeg-installer/ffmpeg');
  if (typeof ffmpegMod !== 'object' || ffmpegMod === null || !('path' in ffmpegMod) || typeof ffmpegMod.path !== 'string') {
    throw new Error('@ffmpeg-installer/ffmpeg exports no path');
  }
  const ffmpeg = ffmpegMod.path;
  return withTempFile(bytes, 'mp4', async (file) => {
    const { stdout } = await run(
      ffmpeg,
      ['-v', 'error', '-ss', String(seconds), '-i', file, '-frames:v', '1', '-vf', 'scale=1:1:flags=area', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
      { encoding: 'buffer' },
    );
    const rgb: readonly [number, number, number] = [stdout[0] ?? 0, stdout[1] ?? 0, stdout[2] ?? 0];
    return rgb;
  });
}

export function colorDistance(a: readonly number[], b: readonly number[]): number {
  return Math.hypot((a[0] ?? 0) - (b[0] ?? 0), (a[1] ?? 0) - (b[1] ?? 0), (a[2] ?? 0) - (b[2] ?? 0));
}

/** A solid-colour PNG of the given size (a valid `input_reference`). */
export function solidPng(width: number, height: number, rgb: readonly [number, number, number] = [200, 40, 90]): Buffer {
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set(rgb, 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
