import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';

/**
 * The real CLI as a child process, for the reliability tests: a fixed fake
 * API key in the environment (recognisable, so a leak is easy to spot),
 * no colours, and a kill-timer that reports a hang instead of waiting forever.
 */
export const CLI = path.resolve('bin/vidbuild.js');
export const CANARY_KEY = 'sk-vidbuild-canary-7f3a9c1e5b2d4086a1c3e5f7';

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /** Called with the child right after spawn (e.g. to kill it later). */
  readonly onSpawn?: (pid: number) => void;
  /** Run as this user and group (a test running as root, to meet a real EACCES). */
  readonly uid?: number;
  readonly gid?: number;
}

export function runCli(args: readonly string[], o: CliOptions): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: o.cwd,
      env: { ...process.env, OPENAI_API_KEY: CANARY_KEY, NO_COLOR: '1', ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(o.uid === undefined ? {} : { uid: o.uid }),
      ...(o.gid === undefined ? {} : { gid: o.gid }),
    });
    if (child.pid !== undefined) o.onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && code === null) reject(new Error(`vidbuild ${args.join(' ')} hung: killed after ${o.timeoutMs ?? 90_000} ms\n${stderr}`));
      else resolve({ code, signal, stdout, stderr });
    });
  });
}

export async function tempDir(prefix = 'vidbuild-reliability-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Files under `dir` (relative paths) whose bytes contain `needle`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const d of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!d.isFile()) continue;
    const abs = path.join(d.parentPath, d.name);
    if ((await readFile(abs)).includes(needle)) hits.push(path.relative(dir, abs));
  }
  return hits;
}

/** Relative paths of every file under `dir`, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (d.isFile() || d.isSymbolicLink()) out.push(path.relative(dir, path.join(d.parentPath, d.name)));
  }
  return out.sort();
}

export interface StartedCli {
  readonly pid: number;
  /** Resolves once stdout or stderr matches (rejects if the child exits first). */
  waitFor(pattern: RegExp): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  readonly done: Promise<CliRun>;
}

/** Starts the CLI and returns at once, so a test can act while it runs, synchronised on its output. */
export function startCli(args: readonly string[], o: CliOptions): StartedCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: o.cwd,
    env: { ...process.env, OPENAI_API_KEY: CANARY_KEY, NO_COLOR: '1', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void; reject: (e: Error) => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      if (w.pattern.test(output)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    output += d.toString();
    check();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    output += d.toString();
    check();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 90_000);
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const w of waiters.splice(0)) w.reject(new Error(`vidbuild ${args.join(' ')} exited (${code ?? signal}) before printing ${w.pattern}:\n${output}`));
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    pid: child.pid ?? -1,
    waitFor: (pattern) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ pattern, resolve, reject });
        check();
      }),
    kill: (signal) => void child.kill(signal),
    done,
  };
}
