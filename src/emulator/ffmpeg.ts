import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs/promises';

/**
 * The static ffmpeg shipped by `@ffmpeg-installer/ffmpeg` (libx264, libwebp,
 * drawtext with freetype). npm can skip the package's postinstall `chmod`
 * (e.g. `--ignore-scripts`), so the binary is made executable on first use.
 *
 * It and the font are optional dependencies (78 MB of a 100 MB install):
 * only the emulator renders, so a CI job that talks to a real provider
 * installs with `--omit=optional`. `renderToolsProblem()` says, before the
 * emulator starts, what is missing and how to add it.
 */

/** The optional packages the emulator renders with. */
export const RENDER_PACKAGES = ['@ffmpeg-installer/ffmpeg', 'dejavu-fonts-ttf'] as const;

const require = createRequire(import.meta.url);

let located: Promise<string> | undefined;

export function ffmpegPath(): Promise<string> {
  located ??= locate();
  return located;
}

async function locate(): Promise<string> {
  let binary: string;
  try {
    const mod: unknown = require('@ffmpeg-installer/ffmpeg');
    if (typeof mod !== 'object' || mod === null || !('path' in mod) || typeof mod.path !== 'string') {
      throw new Error('the package exports no path');
    }
    binary = mod.path;
  } catch (e: unknown) {
    // The package throws a bare string when the platform binary is missing.
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`emulator: cannot find the ffmpeg binary from @ffmpeg-installer/ffmpeg (${why}); reinstall dependencies`);
  }
  try {
    await fs.access(binary, fs.constants.X_OK);
  } catch {
    try {
      await fs.chmod(binary, 0o755);
    } catch (e: unknown) {
      const why = e instanceof Error ? e.message : String(e);
      throw new Error(`emulator: ${binary} is not executable and chmod failed (${why}); run: chmod +x ${binary}`);
    }
  }
  return binary;
}

/**
 * Null when the emulator can render; otherwise one sentence naming what is
 * missing and the command that installs it. Called before the emulator
 * listens, so a lean install fails at start instead of at the first job.
 */
export async function renderToolsProblem(): Promise<string | null> {
  const missing = RENDER_PACKAGES.filter((name) => {
    try {
      require.resolve(name === 'dejavu-fonts-ttf' ? 'dejavu-fonts-ttf/ttf/DejaVuSans.ttf' : name);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    return `the emulator renders with the optional dependencies ${missing.join(' and ')}, which this install left out (npm install --omit=optional?); add them with: npm install ${missing.join(' ')}`;
  }
  try {
    await ffmpegPath();
    return null;
  } catch (e: unknown) {
    return e instanceof Error ? e.message.replace(/^emulator: /, '') : String(e);
  }
}

/** A font bundled with the package, so text renders on machines with no system fonts. */
export function fontPath(): string {
  return require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
}

export interface FfmpegRun {
  readonly args: readonly string[];
  readonly cwd: string;
  readonly signal?: AbortSignal;
}

/** Runs ffmpeg to completion without blocking the event loop; rejects with the tail of stderr. */
export async function runFfmpeg(run: FfmpegRun): Promise<void> {
  const binary = await ffmpegPath();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(binary, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...run.args], {
      cwd: run.cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(run.signal === undefined ? {} : { signal: run.signal }),
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`ffmpeg failed (${signal ?? `exit ${String(code)}`}): ${stderr.trim()}`));
    });
  });
}

/**
 * Whether ffmpeg decodes at least one frame of the file's first video
 * stream (or the image). Uploads are checked by their headers first, but a
 * right header can sit over a body nothing decodes: an MP4 with a zeroed
 * `mdat` made `-stream_loop -1` spin forever, a broken WebP reference made
 * every download of a completed job a 500. Such files are refused when
 * uploaded, as the API refuses an unreadable file.
 */
export async function decodesAFrame(file: string): Promise<boolean> {
  const binary = await ffmpegPath();
  return new Promise<boolean>((resolve) => {
    const child = spawn(
      binary,
      ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', file, '-map', '0:v:0', '-frames:v', '1', '-f', 'framemd5', '-'],
      // One frame takes milliseconds; a file that keeps ffmpeg busy longer is not one to accept.
      { stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000, killSignal: 'SIGKILL' },
    );
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out = (out + chunk).slice(-4000);
    });
    child.on('error', () => resolve(false));
    // A framemd5 line per decoded frame: "stream, dts, pts, duration, size, md5".
    child.on('close', (code) => resolve(code === 0 && /^\d+,/m.test(out)));
  });
}
