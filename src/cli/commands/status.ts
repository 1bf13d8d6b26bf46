import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { formatDiagnostic } from '../../core/diagnostic.js';
import { displayPath } from '../../manifest/load-manifest.js';
import type { AssetVariant, Manifest, Target } from '../../manifest/manifest.js';
import { isTerminalStatus, type JobState, type LockedTarget } from '../../lock/lockfile.js';
import type { DiskFacts, PlanStep } from '../../plan/plan.js';
import { createBackend } from '../../backend/create-backend.js';
import { openProject, planProject } from '../../execute/open-project.js';
import { colorsFor } from '../colors.js';
import { escapeControls } from '../../core/terminal-text.js';

/**
 * `vidbuild status`: one row per target (and orphan) — the action a plan
 * would take, the locked job, its status, age and expiry, and whether the
 * files on disk match the lock. Statuses of unfinished jobs are refreshed
 * from the API when a backend is at hand (a key, or `--backend emulator`);
 * otherwise the lock's last known status is shown. Read-only: takes no run
 * lock and writes nothing.
 */
export interface StatusRow {
  readonly target: string;
  readonly action: string;
  readonly jobId: string | undefined;
  readonly status: string | undefined;
  readonly progress: number | undefined;
  readonly createdAt: string | undefined;
  readonly expiresAt: string | undefined;
  /** Why the job failed (the API's `error.code` and message), when it did. */
  readonly error: { readonly code: string; readonly message: string } | undefined;
  /** `ok`, or what is wrong per variant (`video missing`, `thumbnail modified`). */
  readonly local: string;
}

export async function run(opts: Record<string, unknown>, _args: readonly string[]): Promise<number> {
  const file = typeof opts['file'] === 'string' ? opts['file'] : 'videos.yaml';
  const json = opts['json'] === true;
  const colors = colorsFor(process.stdout, opts['color'] === false || json);
  const opened = await openProject({ file, cwd: process.cwd(), lockFor: undefined });
  if (!opened.ok) {
    // With --json, errors are a JSON document on stdout in validate's and plan's shape (a script
    // parsing stdout got nothing at all), and nothing goes to stderr.
    if (json) process.stdout.write(`${JSON.stringify({ file: displayPath(file, resolve(file), process.cwd()), ok: false, diagnostics: opened.error }, null, 2)}\n`);
    else for (const d of opened.error) process.stderr.write(`${formatDiagnostic(d)}\n`);
    return 1;
  }
  const project = opened.value;
  const { facts, plan } = await planProject(project, {});
  const live = await refreshStatuses(project.lock.videos, opts, project.manifest);
  const now = facts.now.getTime();
  const rows: StatusRow[] = plan.steps.map((s) => rowOf(s, facts, live, project.manifest.projectDir));

  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const header = ['TARGET', 'ACTION', 'JOB', 'STATUS', 'AGE', 'EXPIRES', 'LOCAL'];
  const table = rows.map((r) => [
    r.target,
    r.action,
    r.jobId ?? '-',
    r.status === undefined
      ? '-'
      : r.progress !== undefined && !isTerminalStatus(r.status)
        ? `${r.status} ${Math.round(r.progress)}%`
        : r.error === undefined
          ? r.status
          : `${r.status} (${r.error.code})`,
    r.createdAt === undefined ? '-' : `${formatSpan(now - Date.parse(r.createdAt))} ago`,
    r.expiresAt === undefined ? '-' : Date.parse(r.expiresAt) <= now ? 'expired' : `in ${formatSpan(Date.parse(r.expiresAt) - now)}`,
    r.local,
  ]);
  // Statuses, error codes and ids come from the provider: escaped before they are measured.
  const fitted = fitTable(header, table.map((row) => row.map(escapeControls)), terminalWidth(process.stdout, process.env));
  const widths = header.map((h, i) => Math.max(h.length, ...fitted.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  process.stdout.write(`${colors.bold(line(header))}\n`);
  for (const row of fitted) process.stdout.write(`${line(row)}\n`);
  if (rows.length === 0) process.stdout.write('(no targets)\n');
  return 0;
}

interface Live {
  readonly status: string;
  readonly progress: number;
  readonly expiresAt: string | undefined;
  readonly error: { readonly code: string; readonly message: string } | undefined;
}

type LiveStatus = ReadonlyMap<string, Live>;

function rowOf(step: PlanStep, facts: DiskFacts, live: LiveStatus, projectDir: string): StatusRow {
  const locked = step.locked;
  const job: JobState | undefined = locked?.job.state === 'job' ? locked.job : undefined;
  const fresh = job === undefined ? undefined : live.get(job.jobId);
  return {
    target: step.name,
    action: step.action,
    jobId: locked === undefined ? undefined : job?.jobId ?? '(intent)',
    status: fresh?.status ?? job?.status ?? (locked?.job.state === 'intent' ? 'intent' : undefined),
    progress: fresh?.progress ?? job?.progress,
    createdAt: job?.createdAt,
    expiresAt: fresh?.expiresAt ?? job?.expiresAt,
    error: fresh === undefined ? job?.error : fresh.error,
    local: localState(step.action === 'orphan' ? undefined : step.target, locked, facts, projectDir),
  };
}

function localState(target: Target | undefined, locked: LockedTarget | undefined, facts: DiskFacts, projectDir: string): string {
  const variants: AssetVariant[] = target === undefined ? Object.keys(locked?.assets ?? {}).filter(isVariant) : [...target.assets];
  const problems: string[] = [];
  for (const v of variants) {
    const path = target?.outputs[v] ?? locked?.assets[v]?.path;
    if (path === undefined) continue;
    const onDisk = facts.outputs.get(path);
    const expected = locked?.assets[v];
    if (onDisk === undefined) problems.push(`${v} ${absentHow(projectDir, path)}`);
    else if (expected === undefined) problems.push(`${v} not in lock`);
    else if (onDisk.sha256 !== expected.sha256) problems.push(`${v} modified`);
  }
  return problems.length === 0 ? 'ok' : problems.join(', ');
}

/** Why an output the facts do not have as a file is not there: usually missing, sometimes something else is in the way (apply would fail on it). */
function absentHow(projectDir: string, rel: string): string {
  let st;
  try {
    // Only inside the project: a folder on the way that leads out is not looked through.
    const root = realpathSync(projectDir);
    const dir = realpathSync(dirname(join(projectDir, rel)));
    if (dir !== root && !dir.startsWith(root + sep)) return 'missing';
    st = lstatSync(join(dir, basename(rel)));
  } catch {
    return 'missing';
  }
  if (st.isDirectory()) return 'blocked by a directory';
  if (st.isSymbolicLink()) return 'missing (a symlink leading outside the project or nowhere)';
  return st.isFile() ? 'unreadable' : 'blocked by a non-file';
}

function isVariant(s: string): s is AssetVariant {
  return s === 'video' || s === 'thumbnail' || s === 'spritesheet';
}

async function refreshStatuses(
  videos: Readonly<Record<string, LockedTarget>>,
  opts: Record<string, unknown>,
  manifest: Manifest,
): Promise<LiveStatus> {
  const open = Object.values(videos)
    .map((t) => t.job)
    .filter((j): j is JobState => j.state === 'job' && !isTerminalStatus(j.status));
  const out = new Map<string, Live>();
  if (open.length === 0) return out;
  const backend = await createBackend({
    kind: opts['backend'] === 'emulator' ? 'emulator' : 'openai',
    baseURL: typeof opts['baseUrl'] === 'string' ? opts['baseUrl'] : undefined,
    provider: manifest.provider,
    projectDir: manifest.projectDir,
    env: process.env,
  });
  // No key: show the lock's last known statuses rather than fail.
  if (!backend.ok) return out;
  try {
    await Promise.all(
      open.map(async (j) => {
        try {
          const v = await backend.value.client.videos.retrieve(j.jobId);
          out.set(j.jobId, {
            status: v.status,
            progress: v.progress,
            expiresAt: v.expires_at === null ? undefined : new Date(v.expires_at * 1000).toISOString(),
            error: v.error === null || v.error === undefined ? undefined : { code: v.error.code, message: v.error.message },
          });
        } catch {
          // Unreachable job: keep the lock's view.
        }
      }),
    );
  } finally {
    await backend.value.close();
  }
  return out;
}

function formatSpan(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.round(h / 24)}d`;
}

/**
 * Columns to fit the table in: the terminal's, or `COLUMNS` when output is
 * not a terminal but the user says how wide to be; a pipe otherwise gets
 * every row whole (`status --json` is the machine-readable form).
 */
function terminalWidth(out: NodeJS.WriteStream, env: NodeJS.ProcessEnv): number {
  if (out.isTTY === true && out.columns > 0) return out.columns;
  const fromEnv = Number(env['COLUMNS']);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Infinity;
}

/** JOB (column 2), then TARGET (column 0), give up width first, each to no less than this. */
const SHRINK: readonly (readonly [column: number, min: number])[] = [
  [2, 20],
  [0, 12],
];

/**
 * The table narrowed to `width` columns by eliding the middle of job ids
 * (`video_68d2a0c1…9f3e`: both ends stay recognisable and searchable) and
 * the end of long target names, down to a minimum each; past that a line
 * may still wrap, but only the one with a long note in LOCAL.
 */
function fitTable(header: readonly string[], table: readonly (readonly string[])[], width: number): string[][] {
  const rows = table.map((r) => [...r]);
  const widthOf = (i: number): number => Math.max(header[i]?.length ?? 0, ...rows.map((r) => (r[i] ?? '').length));
  // Every column plus two spaces between each.
  const total = (): number => header.reduce((sum, _h, i) => sum + widthOf(i) + (i === header.length - 1 ? 0 : 2), 0);
  for (const [column, min] of SHRINK) {
    const over = total() - (width - 1);
    if (over <= 0) break;
    const target = Math.max(min, widthOf(column) - over);
    for (const r of rows) {
      const cell = r[column] ?? '';
      if (cell.length > target) r[column] = column === 2 ? elideMiddle(cell, target) : `${cell.slice(0, target - 1)}…`;
    }
  }
  return rows;
}

function elideMiddle(s: string, len: number): string {
  const tail = Math.max(4, Math.floor((len - 1) / 3));
  return `${s.slice(0, len - 1 - tail)}…${s.slice(-tail)}`;
}
