// Small real MP4s for the benchmarks' edit and extension sources. validate
// reads a local video's box headers and refuses anything that is not an MP4
// with a video track, so a bench project needs real files. One clip is made
// by the bundled ffmpeg (index after the media, as ffmpeg writes by default,
// so the reader has to seek past `mdat`); `tag` goes into a trailing `free`
// box so every file has its own content hash at no extra cost.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const clips = new Map();

function ffmpegPath() {
  const { path: bin } = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg');
  try {
    chmodSync(bin, 0o755);
  } catch {
    // read-only install: it is executable already, or the call says so
  }
  return bin;
}

function clip(width, height, seconds) {
  const key = `${width}x${height}x${seconds}`;
  let bytes = clips.get(key);
  if (bytes === undefined) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vidbuild-bench-mp4-'));
    try {
      const file = path.join(dir, 'clip.mp4');
      execFileSync(ffmpegPath(), ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=4:duration=${seconds}`, '-pix_fmt', 'yuv420p', file], { stdio: 'ignore' });
      bytes = readFileSync(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    clips.set(key, bytes);
  }
  return bytes;
}

/** A `width`x`height` MP4 of `seconds` (made once per shape), tagged with `tag`. */
export function benchMp4(width, height, seconds, tag) {
  const payload = Buffer.from(tag, 'utf8');
  const free = Buffer.alloc(8);
  free.writeUInt32BE(8 + payload.length);
  free.write('free', 4, 'latin1');
  return Buffer.concat([clip(width, height, seconds), free, payload]);
}
