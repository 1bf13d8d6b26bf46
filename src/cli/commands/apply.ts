import path from 'node:path';
import { formatDiagnostic, type Diagnostic } from '../../core/diagnostic.js';
import { unknownTargetNames } from '../../plan/target-selection.js';
import type { Manifest, ProjectPath, TargetName } from '../../manifest/manifest.js';
import { describeShard, parseShard, targetsInShard } from '../../plan/shard.js';
import type { Sha256 } from '../../lock/lockfile.js';
import { planHasChanges, type Plan } from '../../plan/plan.js';
import { failedNotice, moneyAndUnpriced, renderPlan } from '../../plan/render-plan.js';
import { createBackend, type Backend } from '../../backend/create-backend.js';
import { scrubSecret } from '../../backend/api-key.js';
import { applyPlan, type RunNotice } from '../../execute/apply-plan.js';
import type { ExecEvent, RunSummary } from '../../execute/events.js';
import { openProject, resolveTargetNames, type OpenProject } from '../../execute/open-project.js';
import { projectCache } from '../../execute/local-cache-adapter.js';
import { checkRails, needsApi, paidSteps, planForApply, type RunNeed } from '../../execute/apply-rails.js';
import type { ObsoleteJobEvent } from '../../execute/obsolete-jobs.js';
import { remoteRefusal, remoteWarning, usableStore, type RunRemote } from '../../execute/run-remote.js';
import { openRemote } from '../../remote/open-remote.js';
import { describeTransfer } from '../progress/describe-transfer.js';
import { colorsFor, type Colors } from '../colors.js';
import { heartbeatFromEnv, plainLogger } from '../progress/plain-logger.js';
import { ndjsonLogger } from '../progress/ndjson-logger.js';
import { TtyView } from '../progress/tty-view.js';
import { askYesNo } from '../progress/confirm.js';
import { countOf, formatUsd } from '../progress/describe-event.js';

/**
 * `vidbuild apply` (and `pull` = apply --frozen): plan, check the rails
 * (frozen, budget, confirmation), then execute with a live view / plain log /
 * NDJSON. Holds the run lock from before reading the lockfile to the end.
 */
export interface ApplyCommandOptions {
  readonly file: string;
  readonly yes: boolean;
  readonly frozen: boolean;
  /** Move aside a file in an output's place that vidbuild did not write. */
  readonly force: boolean;
  /** null: given but not a number ≥ 0 (a budget that silently vanished would spend). */
  readonly maxCost: number | undefined | null;
  /** Run steps with no known price even under a budget (which cannot bound them). */
  readonly allowUnpriced: boolean;
  readonly targets: readonly string[] | undefined;
  /** `--shard K/N` as given (checked before the project is opened). */
  readonly shard: string | undefined;
  readonly replace: readonly string[] | undefined;
  /** Resubmit targets whose job failed with their current inputs (otherwise they stay failed, and apply exits 1). */
  readonly retryFailed: boolean;
  /** null: given but not a positive whole number. */
  readonly concurrency: number | undefined | null;
  readonly downloadConcurrency: number | undefined | null;
  readonly json: boolean;
  readonly backend: 'openai' | 'emulator';
  readonly baseURL: string | undefined;
  /** `--remote URL` or `off`; undefined: VIDBUILD_REMOTE, then the manifest. */
  readonly remote: string | undefined;
  readonly color: boolean;
  /** Name recorded in the run lock and shown in messages. */
  readonly command: 'apply' | 'pull';
}

/** Under the plan on the emulator: its prices are the real API's, and nothing is billed. */
const EMULATOR_PRICE_NOTE = 'Costs are estimates at API prices; the emulator is free, nothing is billed.';

export async function run(opts: Record<string, unknown>, _args: readonly string[]): Promise<number> {
  return applyCommand(parseApplyOptions(opts, 'apply'));
}

export function parseApplyOptions(opts: Record<string, unknown>, command: 'apply' | 'pull'): ApplyCommandOptions {
  return {
    file: typeof opts['file'] === 'string' ? opts['file'] : 'videos.yaml',
    yes: opts['yes'] === true,
    frozen: opts['frozen'] === true || command === 'pull',
    force: opts['force'] === true,
    maxCost: budget(opts['maxCost']),
    allowUnpriced: opts['allowUnpriced'] === true,
    targets: stringList(opts['target']),
    shard: typeof opts['shard'] === 'string' ? opts['shard'] : undefined,
    replace: stringList(opts['replace']),
    retryFailed: opts['retryFailed'] === true,
    concurrency: positiveInt(opts['concurrency']),
    downloadConcurrency: positiveInt(opts['downloadConcurrency']),
    json: opts['json'] === true,
    backend: opts['backend'] === 'emulator' ? 'emulator' : 'openai',
    baseURL: typeof opts['baseUrl'] === 'string' ? opts['baseUrl'] : undefined,
    remote: typeof opts['remote'] === 'string' ? opts['remote'] : undefined,
    color: opts['color'] !== false,
    command,
  };
}

export async function applyCommand(o: ApplyCommandOptions): Promise<number> {
  const out = process.stdout;
  const err = process.stderr;
  const colors = colorsFor(out, !o.color || o.json);
  const printDiagnostics = (ds: readonly Diagnostic[]): void => {
    for (const d of ds) err.write(`${formatDiagnostic(d)}\n`);
  };

  for (const [flag, v] of [['--concurrency', o.concurrency], ['--download-concurrency', o.downloadConcurrency]] as const) {
    if (v === null) {
      err.write(`${flag} must be a positive whole number\n`);
      return 1;
    }
  }
  if (o.maxCost === null) {
    err.write('--max-cost must be an amount in USD, 0 or more (e.g. --max-cost 5)\n');
    return 1;
  }
  const shard = o.shard === undefined ? undefined : parseShard(o.shard);
  if (shard !== undefined && !shard.ok) {
    err.write(`${shard.error}\n`);
    return 1;
  }

  const opened = await openProject({ file: o.file, cwd: process.cwd(), lockFor: o.command });
  if (!opened.ok) {
    printDiagnostics(opened.error);
    // As for a run the rails refuse: an NDJSON reader gets one line, not only an exit code.
    const first = opened.error.find((d) => d.severity === 'error') ?? opened.error[0];
    if (o.json && first !== undefined) {
      process.stdout.write(`${JSON.stringify({ type: 'run-refused', at: new Date().toISOString(), code: first.code, message: formatDiagnostic(first), diagnostics: opened.error })}\n`);
    }
    return 1;
  }
  const project = opened.value;
  const releaseOnExit = (): void => project.runLock?.releaseSync();
  process.once('exit', releaseOnExit);
  try {
    printDiagnostics(project.warnings);
    return await applyOpened(o, project, colors, printDiagnostics);
  } finally {
    await project.runLock?.release();
    process.removeListener('exit', releaseOnExit);
  }
}

async function applyOpened(
  o: ApplyCommandOptions,
  project: OpenProject,
  colors: Colors,
  printDiagnostics: (ds: readonly Diagnostic[]) => void,
): Promise<number> {
  const out = process.stdout;
  const err = process.stderr;
  const targets = o.targets === undefined ? ok(undefined) : resolveTargetNames(project.manifest, o.targets);
  const replace = o.replace === undefined ? ok(undefined) : resolveTargetNames(project.manifest, o.replace);
  if (!targets.ok || !replace.ok) {
    const unknown = unknownTargetNames(project.manifest, [...(targets.ok ? [] : targets.error), ...(replace.ok ? [] : replace.error)]);
    const file = path.relative(process.cwd(), project.manifest.file) || project.manifest.file;
    for (const u of unknown) {
      err.write(`no target named ${u.name} in ${file}${u.suggestion === undefined ? '' : ` (did you mean ${u.suggestion}?)`}\n`);
    }
    return 1;
  }
  // A target forced with --replace is wanted even when --target narrows the
  // run to others: dropping it silently would look like it was replaced.
  const chosen = targets.value === undefined ? undefined : [...new Set([...targets.value, ...(replace.value ?? [])])];
  const sharded = shardSelection(project.manifest, o.shard, chosen);
  const selected = sharded?.names ?? chosen;
  const store = await openRemote({ flag: o.remote, env: process.env, manifest: project.manifest.remote });
  if (!store.ok) {
    printDiagnostics([store.error]);
    return 1;
  }
  const { facts, plan, remote } = await planForApply(project, { targets: selected, replace: replace.value, retryFailed: o.retryFailed, remote: store.value });
  const remoteDown = remoteWarning(remote);
  if (remoteDown !== undefined) err.write(`${remoteDown}\n`);
  printDiagnostics(facts.warnings ?? []);
  printDiagnostics(plan.warnings ?? []);
  if (!o.json) {
    if (sharded !== undefined) out.write(`${sharded.line}\n`);
    out.write(`${renderPlan(plan, colors)}\n`);
    if (o.backend === 'emulator' && (plan.summary.cost > 0 || plan.summary.unpriced > 0)) out.write(`${EMULATOR_PRICE_NOTE}\n\n`);
  }

  const maxCost = o.maxCost ?? undefined; // null was refused before the project was opened
  const rails = await checkRails(project, plan, {
    command: o.command,
    frozen: o.frozen,
    force: o.force,
    maxCost,
    allowUnpriced: o.allowUnpriced,
    emulator: o.backend === 'emulator',
    manifestShown: path.relative(process.cwd(), project.manifest.file) || project.manifest.file,
  });
  // With --json, a run refused before it starts still ends in one line on
  // stdout (NDJSON readers otherwise get nothing but the exit code).
  const refused = (code: string, message: string, needs?: readonly RunNeed[]): void => {
    if (o.json) out.write(`${JSON.stringify({ type: 'run-refused', at: new Date().toISOString(), code, message, ...(needs === undefined ? {} : { needs }) })}\n`);
  };
  for (const line of rails.lines) err.write(`${line}\n`);
  if (rails.refused !== undefined) {
    refused(rails.refused.code, rails.refused.message, rails.refused.needs);
    return 1;
  }
  const unchecked = remoteRefusal(remote, plan, o.frozen);
  if (unchecked !== undefined) {
    err.write(`${unchecked.message}\n`);
    refused(unchecked.code, unchecked.message);
    return 1;
  }
  const paid = paidSteps(plan);
  const unretried = plan.steps.filter((s) => s.action === 'failed');
  // Failed targets go through the executor too (no API call): each is reported
  // skipped, the summary counts it and the exit code is 1.
  if (!planHasChanges(plan) && unretried.length === 0) {
    if (o.json) out.write(`${JSON.stringify({ type: 'run-finished', at: new Date().toISOString(), summary: noopSummary(plan, o.backend === 'emulator') })}\n`);
    return 0;
  }

  const backendRes = await createBackend({
    kind: o.backend,
    baseURL: o.baseURL,
    provider: project.manifest.provider,
    projectDir: project.manifest.projectDir,
    env: process.env,
    keyOptional: !needsApi(plan),
  });
  if (!backendRes.ok) {
    printDiagnostics([backendRes.error]);
    return 1;
  }
  const backend = backendRes.value;
  try {
    const spends = !backend.free && paid.length > 0 && !o.frozen;
    if (spends && !o.yes) {
      const interactive = process.stdin.isTTY === true && out.isTTY === true && !o.json;
      if (!interactive) {
        const message = `this plan spends money (about ${moneyAndUnpriced(plan.summary.cost, plan.summary.unpriced)}); pass --yes to apply it without a terminal`;
        err.write(`${message}\n`);
        refused('needs-yes', message);
        return 1;
      }
      const answer = await askYesNo(confirmQuestion(plan, paid.length, backend.baseURL), process.stdin, out);
      if (answer !== 'yes') {
        err.write('Nothing was done.\n');
        return answer === 'interrupted' ? 130 : 1;
      }
    }
    const code = await execute(o, project, plan, facts.fileHashes, backend, colors, remote);
    // Last, so the exit code's reason is the line a CI log ends with.
    const notice = failedNotice(plan);
    // (pull and --frozen listed them above, with the apply that retries them.)
    if (notice !== undefined && code !== 130 && !o.frozen) err.write(`${notice}\n`);
    return notice !== undefined && code === 0 ? 1 : code;
  } finally {
    await backend.close();
  }
}

async function execute(
  o: ApplyCommandOptions,
  project: OpenProject,
  plan: Plan,
  fileHashes: ReadonlyMap<ProjectPath, Sha256>,
  backend: Backend,
  colors: Colors,
  remote: RunRemote,
): Promise<number> {
  const out = process.stdout;
  const err = process.stderr;
  const scrub = (line: string): string => scrubSecret(line, backend.secret);
  let view: TtyView | undefined;
  let onEvent: (e: ExecEvent) => void;
  if (o.json) onEvent = ndjsonLogger((l) => out.write(`${scrub(l)}\n`));
  else if (out.isTTY === true) {
    view = new TtyView(out, colors);
    const v = view;
    // plan-ready too: the plan is printed above, but the view counts its targets.
    onEvent = v.onEvent;
  } else {
    const log = plainLogger((l) => out.write(`${scrub(l)}\n`), colors, heartbeatFromEnv(process.env));
    onEvent = (e) => (e.type === 'plan-ready' ? undefined : log(e));
  }

  // First Ctrl-C: stop starting jobs, keep every id; second: leave at once.
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1) {
      view?.print(colors.yellow('Stopping: no new jobs will start; saving job ids (Ctrl-C again to quit at once)…'));
      if (view === undefined) err.write('Stopping: no new jobs will start; saving job ids (Ctrl-C again to quit at once)…\n');
      controller.abort(new Error('interrupted'));
      return;
    }
    view?.stop();
    err.write(`Quit. Job ids already created are in ${path.basename(project.lockPath)}; run \`vidbuild apply\` to resume.\n`);
    process.exit(130);
  };
  process.on('SIGINT', onSigint);
  // Beside the run's events: jobs an earlier run left in flight (see applyPlan).
  const side = (line: string, data: Record<string, unknown>): void => {
    if (o.json) out.write(`${scrub(JSON.stringify({ ...data, at: new Date().toISOString() }))}\n`);
    else if (view !== undefined) view.print(scrub(line));
    else out.write(`${scrub(line)}\n`);
  };
  const onNotice = (n: RunNotice): void => {
    switch (n.type) {
      case 'warning':
        return side(`${colors.yellow('warning:')} ${n.name}: ${n.message}`, { ...n });
      case 'obsolete-job':
        return side(describeObsolete(n, colors), { ...n });
      case 'obsolete-wait':
        // Human output only: NDJSON readers get the obsolete-job events themselves.
        if (!o.json) side(`  waiting for ${countOf(n.pending, 'obsolete job')} to finish into the cache (Ctrl-C leaves ${n.pending === 1 ? 'it' : 'them'} unfinished)`, {});
        return;
    }
  };
  try {
    const result = await applyPlan({
      manifest: project.manifest,
      plan,
      lock: project.lock,
      lockPath: project.lockPath,
      client: backend.client,
      fileHashes,
      rateGate: backend.rateGate,
      concurrency: o.concurrency ?? undefined,
      downloadConcurrency: o.downloadConcurrency ?? undefined,
      frozen: o.frozen,
      force: o.force,
      pollMinMs: backend.pollMinMs,
      pollMaxMs: backend.pollMaxMs,
      signal: controller.signal,
      onEvent,
      onNotice,
      free: backend.free,
      ...(usableStore(remote) === undefined ? {} : { remote: usableStore(remote) }),
    });
    // Human output only: NDJSON readers got a warning event for each push that failed.
    if (result.transfer !== undefined && !o.json) side(describeTransfer(result.transfer), {});
    return result.exitCode;
  } finally {
    view?.stop();
    process.removeListener('SIGINT', onSigint);
  }
}

function describeObsolete(e: ObsoleteJobEvent, c: Colors): string {
  switch (e.state) {
    case 'finishing':
      return `  ${e.name}: job ${e.jobId} of an earlier run is obsolete (inputs changed); finishing it into the cache`;
    case 'cached':
      return `${c.green('✓')} ${e.name}: obsolete job ${e.jobId} saved in the cache (revert the edit to restore it for free)`;
    case 'failed':
      return `${c.yellow('!')} ${e.name}: obsolete job ${e.jobId} did not finish: ${e.message ?? 'failed'}`;
    case 'abandoned':
      return `${c.yellow('!')} ${e.name}: obsolete job ${e.jobId} left unfinished (interrupted); it is paid for but not kept`;
  }
}

/**
 * Whether executing the plan talks to the API at all. Restoring outputs from
 * the local cache does not, so `pull` with a warm cache needs no key.
 */
/** The y/N question before spending: the known sum, and how many jobs it leaves out for want of a price. */
export function confirmQuestion(plan: Plan, jobs: number, baseURL: string): string {
  const n = plan.summary.unpriced;
  const unpriced = n === 0 ? '' : ` (${n === jobs ? (n === 1 ? 'it has' : 'they have') : `${n} of them ${n === 1 ? 'has' : 'have'}`} no known price, not in that sum)`;
  return `Spend about ${formatUsd(plan.summary.cost)} on ${countOf(jobs, 'job')}${unpriced} at ${baseURL}? [y/N] `;
}

function noopSummary(plan: Plan, free: boolean): RunSummary {
  return {
    created: 0,
    resumed: 0,
    fetched: 0,
    unchanged: plan.summary.counts.unchanged,
    failed: 0,
    skipped: 0,
    inFlight: 0,
    notDownloaded: 0,
    cost: 0,
    unpriced: 0,
    free,
    elapsedMs: 0,
    interrupted: false,
  };
}

/** `--shard K/N` (already checked) narrows the selection to its targets, and says which in one line. */
function shardSelection(manifest: Manifest, text: string | undefined, chosen: readonly TargetName[] | undefined): { readonly names: readonly TargetName[]; readonly line: string } | undefined {
  const shard = text === undefined ? undefined : parseShard(text);
  if (shard === undefined || !shard.ok) return undefined;
  const inShard = targetsInShard(manifest, shard.value);
  const names = chosen === undefined ? inShard : inShard.filter((n) => chosen.includes(n));
  return { names, line: describeShard(manifest, shard.value, names) };
}

function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

/** undefined = not given; null = given but not a finite number ≥ 0. */
function budget(v: unknown): number | undefined | null {
  if (v === undefined) return undefined;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

/** undefined = not given; null = given but invalid. */
function positiveInt(v: unknown): number | undefined | null {
  if (v === undefined) return undefined;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;
}

function stringList(v: unknown): readonly string[] | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : undefined;
}
