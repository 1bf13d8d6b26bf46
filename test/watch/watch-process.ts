import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

/**
 * Test rig for `vidbuild watch` as a real child process (wireit-style): a
 * temp project, the built CLI on the in-process emulator with fast jobs, and
 * waits on output lines, never on sleeps.
 */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** VIDBUILD_BIN runs another build of the CLI (e.g. a packed install); default: this checkout's. */
const bin = process.env['VIDBUILD_BIN'] ?? path.join(repoRoot, 'bin', 'vidbuild.js');

export async function tempProject(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'vidbuild-watch-')));
  onTestFinished(() => fs.rm(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), content);
  }
  return dir;
}

/** Two independent 4-second clips; the smallest, fastest thing the emulator renders. */
export function twoClipManifest(promptA: string, promptB: string): string {
  return [
    'version: 1',
    'defaults: { model: sora-2, size: 1280x720, seconds: 4 }',
    'outDir: videos',
    'videos:',
    '  alpha:',
    `    prompt: ${promptA}`,
    '    assets: [video, thumbnail]',
    '  beta:',
    `    prompt: ${promptB}`,
    '    assets: [video, thumbnail]',
    '',
  ].join('\n');
}

export interface WatchProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Every stdout and stderr line so far, in arrival order, stderr lines prefixed `ERR `. */
  readonly lines: string[];
  /** Resolves with the index of the first line at or after `from` matching `re`. */
  waitFor(re: RegExp, from?: number, timeoutMs?: number): Promise<number>;
  /** Lines in [from, to). */
  slice(from: number, to?: number): string[];
  /** Send `q` and wait for the exit code. */
  quit(): Promise<number | null>;
}

export interface WatchOptions {
  readonly args?: readonly string[];
  /** Simulated generation time per job (seconds). */
  readonly jobSeconds?: number;
  /** Extra environment for the child (e.g. NODE_OPTIONS to preload an fs counter). */
  readonly env?: Readonly<Record<string, string>>;
}

export function startWatch(dir: string, options: WatchOptions = {}): WatchProcess {
  const child = spawn(
    process.execPath,
    [bin, 'watch', '--backend', 'emulator', '-f', 'videos.yaml', ...(options.args ?? [])],
    {
      cwd: dir,
      env: {
        ...process.env,
        NO_COLOR: '1',
        VIDBUILD_EMULATOR_JOB_SECONDS: String(options.jobSeconds ?? 0.3),
        VIDBUILD_EMULATOR_FPS: '4',
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let exited: number | null | undefined;
  const exitPromise = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      exited = code;
      for (const w of waiters) w();
      resolve(code);
    }),
  );
  const feed = (prefix: string) => {
    let buffer = '';
    return (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        lines.push(prefix + buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
      }
      for (const w of waiters) w();
    };
  };
  child.stdout.on('data', feed(''));
  child.stderr.on('data', feed('ERR '));
  onTestFinished(async () => {
    if (exited === undefined) {
      child.kill('SIGKILL');
      await exitPromise;
    }
  });

  const waitFor = (re: RegExp, from = 0, timeoutMs = 45_000) =>
    new Promise<number>((resolve, reject) => {
      const check = () => {
        for (let i = from; i < lines.length; i++) {
          if (re.test(lines[i] ?? '')) {
            cleanup();
            resolve(i);
            return;
          }
        }
        if (exited !== undefined) {
          cleanup();
          reject(new Error(`watch exited (${exited}) before a line matched ${re}:\n${lines.join('\n')}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no line matched ${re} within ${timeoutMs} ms:\n${lines.join('\n')}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    child,
    lines,
    waitFor,
    slice: (from, to) => lines.slice(from, to),
    async quit() {
      child.stdin.write('q\n');
      return exitPromise;
    },
  };
}

/** The line the session prints when a cycle is over. */
export const IDLE = /^watching \d+ file\(s\) for changes/;
