import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/server.js';

/**
 * The apply test rig: a temp project per test, a real emulator on
 * 127.0.0.1 (small jobs, low fps, a render cache shared across tests so the
 * suite stays fast), and the real CLI as a child process talking to it over
 * HTTP with a fake key.
 */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(repoRoot, 'bin', 'vidbuild.js');
/** Rendered clips shared by every test's emulator (and by `--backend emulator` via VIDBUILD_EMULATOR_RENDER_CACHE). */
export const renderCacheDir = path.join(os.tmpdir(), 'vidbuild-test-apply-renders');

export async function tempProject(files: Readonly<Record<string, string | Buffer>>): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'vidbuild-apply-'));
  onTestFinished(() => fsp.rm(dir, { recursive: true, force: true }));
  for (const [rel, content] of Object.entries(files)) {
    await fsp.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fsp.writeFile(path.join(dir, rel), content);
  }
  return dir;
}

export async function emulator(options: Partial<EmulatorOptions> = {}): Promise<RunningEmulator> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'vidbuild-apply-emu-'));
  const emu = await startEmulator({ dir, port: 0, jobSeconds: 0.4, fps: 4, renderCacheDir, ...options });
  onTestFinished(async () => {
    await emu.stop();
    await fsp.rm(dir, { recursive: true, force: true });
  });
  return emu;
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function cliEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return { ...process.env, OPENAI_API_KEY: 'sk-test-not-a-real-key-0123456789', NO_COLOR: '1', ...extra };
}

export function spawnCli(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = cliEnv()): ChildProcess {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

export function collect(child: ChildProcess, onLine?: (line: string) => void): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) onLine?.(l);
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export function vidbuild(args: readonly string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<CliResult> {
  return collect(spawnCli(args, cwd, env));
}

/** `apply` against a running emulator, non-interactive. */
export function apply(cwd: string, emu: RunningEmulator, extra: readonly string[] = []): Promise<CliResult> {
  return vidbuild(['apply', '--yes', '--base-url', emu.baseURL, ...extra], cwd);
}

export interface LockShape {
  readonly videos: Record<
    string,
    {
      readonly fingerprint: string;
      readonly job: { readonly state: string; readonly jobId?: string; readonly status?: string };
      readonly assets: Record<string, { readonly path: string; readonly bytes: number; readonly sha256: string }>;
    }
  >;
  readonly characters?: Record<string, { readonly job: { readonly state: string; readonly characterId?: string } }>;
}

export async function readLock(dir: string): Promise<LockShape> {
  const parsed: unknown = JSON.parse(await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || !('videos' in parsed)) throw new Error('not a lockfile');
  return parsed as LockShape;
}

export async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await fsp.readFile(file)).digest('hex');
}

/** Every asset the lock records is on disk with the recorded size and sha256. */
export async function expectLockMatchesDisk(dir: string): Promise<number> {
  const lock = await readLock(dir);
  let n = 0;
  for (const [name, t] of Object.entries(lock.videos)) {
    for (const a of Object.values(t.assets)) {
      const file = path.join(dir, a.path);
      const st = await fsp.stat(file);
      if (st.size !== a.bytes) throw new Error(`${name}: ${a.path} has ${st.size} bytes, lock says ${a.bytes}`);
      const sha = await sha256File(file);
      if (sha !== a.sha256) throw new Error(`${name}: ${a.path} sha256 ${sha} differs from the lock`);
      n++;
    }
  }
  return n;
}

/** All jobs the emulator holds (through its list endpoint). */
export async function listJobs(emu: RunningEmulator): Promise<{ id: string; prompt: string | null; status: string }[]> {
  const out: { id: string; prompt: string | null; status: string }[] = [];
  let after: string | undefined;
  for (;;) {
    const url = new URL(`${emu.baseURL}/videos`);
    url.searchParams.set('limit', '100');
    if (after !== undefined) url.searchParams.set('after', after);
    const res = await fetch(url, { headers: { authorization: 'Bearer test' } });
    const page = (await res.json()) as { data: { id: string; prompt: string | null; status: string }[]; has_more: boolean };
    out.push(...page.data);
    if (!page.has_more || page.data.length === 0) return out;
    after = page.data[page.data.length - 1]?.id;
  }
}

export function posts(emu: RunningEmulator): number {
  const r = emu.stats().requests;
  return Object.entries(r)
    .filter(([k]) => k.startsWith('POST '))
    .reduce((a, [, v]) => a + v, 0);
}
