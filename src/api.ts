import path from 'node:path';
import { errorDiagnostic, type Diagnostic } from './core/diagnostic.js';
import { err, ok, type Result } from './core/result.js';
import type { TargetName } from './manifest/manifest.js';
import type { Lockfile } from './lock/lockfile.js';
import type { Plan } from './plan/plan.js';
import { planHasChanges } from './plan/plan.js';
import { unknownTargetNames } from './plan/target-selection.js';
import { createBackend } from './backend/create-backend.js';
import { scrubSecret } from './backend/api-key.js';
import { applyPlan, type RunNotice } from './execute/apply-plan.js';
import type { ExecEvent, RunSummary } from './execute/events.js';
import { openProject, resolveTargetNames, type OpenProject } from './execute/open-project.js';
import { remoteRefusal, usableStore } from './execute/run-remote.js';
import { openRemote } from './remote/open-remote.js';
import { checkRails, needsApi, planForApply, planForReview, type RunNeed } from './execute/apply-rails.js';

/**
 * The library API: what `vidbuild plan` and `vidbuild apply` do, for a
 * script or a CI step that would rather call a function than parse a CLI.
 * The same code paths as the CLI (opening the project under its run lock,
 * planning, the rails that refuse a run before it pays, the executor); no
 * printing and no prompt: a budget (`maxCost`) is the rail, and every event
 * of the run goes to `onEvent`. Errors are values: `{ ok: false, diagnostics }`.
 */
export interface ProjectOptions {
  /** The manifest, relative to `cwd` (default `videos.yaml`). */
  readonly file?: string;
  /** Default `process.cwd()`. */
  readonly cwd?: string;
  /** Only these targets (and their sources). */
  readonly targets?: readonly string[];
  /** Force these targets to be regenerated. */
  readonly replace?: readonly string[];
  /** Plan a target whose job failed with its current inputs as a retry (it pays again). */
  readonly retryFailed?: boolean;
  /**
   * The team's remote cache, `s3://bucket/prefix`, or `off` (default: the
   * environment's VIDBUILD_REMOTE, then the manifest's `remote:`).
   * Credentials come from the AWS SDK's default chain.
   */
  readonly remote?: string;
  /** The environment the remote's settings and the API key are read from (default: `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface PlanResult {
  readonly ok: true;
  readonly plan: Plan;
  /** Whether applying the plan would change anything (`plan --detailed-exitcode` exits 2). */
  readonly changes: boolean;
  readonly warnings: readonly Diagnostic[];
}

export type Failure = { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/**
 * Plans the manifest against its lockfile, what is on disk and, with a
 * remote, what the team's remote cache holds (as `vidbuild plan`); writes
 * nothing but vidbuild's hash cache. A remote that does not answer is a
 * `remote-unavailable` warning: the plan then counts as paid what it may hold.
 */
export async function plan(o: ProjectOptions = {}): Promise<PlanResult | Failure> {
  const opened = await openProject({ file: o.file ?? 'videos.yaml', cwd: o.cwd ?? process.cwd(), lockFor: undefined });
  if (!opened.ok) return { ok: false, diagnostics: opened.error };
  const project = opened.value;
  const selection = select(project, o);
  if (!selection.ok) return { ok: false, diagnostics: selection.error };
  const store = await openRemote({ flag: o.remote, env: o.env ?? process.env, manifest: project.manifest.remote });
  if (!store.ok) return { ok: false, diagnostics: [store.error] };
  const { plan: p, facts, remote } = await planForReview(project, { ...selection.value, retryFailed: o.retryFailed, remote: store.value });
  const remoteWarnings = remote.state === 'down' ? [unavailable(remote.error.message)] : [];
  return { ok: true, plan: p, changes: planHasChanges(p), warnings: [...project.warnings, ...remoteWarnings, ...(facts.warnings ?? []), ...(p.warnings ?? [])] };
}

function unavailable(problem: string): Diagnostic {
  return { code: 'remote-unavailable', severity: 'warning', message: `${problem}; this plan does not count what the remote cache holds` };
}

export interface ApplyOptions extends ProjectOptions {
  /** `emulator`: the local emulator in `.vidbuild/emulator` (free); default `openai`. */
  readonly backend?: 'openai' | 'emulator';
  /** An OpenAI-compatible provider's base URL (overrides the manifest and OPENAI_BASE_URL). */
  readonly baseURL?: string;
  /** Refuse a plan whose estimated cost is above this many USD, before anything is sent. */
  readonly maxCost?: number;
  /** Let a run under `maxCost` send jobs whose price is unknown. */
  readonly allowUnpriced?: boolean;
  /** Never create jobs: only restore outputs (`vidbuild pull`). */
  readonly frozen?: boolean;
  /** Move aside files in an output's place that vidbuild did not write. */
  readonly force?: boolean;
  readonly concurrency?: number;
  readonly downloadConcurrency?: number;
  /** Abort = start no new job; ids of calls on the wire are still saved. */
  readonly signal?: AbortSignal;
  /** Every event of the run (the NDJSON of `apply --json`, as objects), the API key scrubbed. */
  readonly onEvent?: (event: ExecEvent) => void;
  /**
   * Jobs an earlier, interrupted run left in flight that this plan no longer
   * tracks: warnings, and replaced jobs being finished into the cache (the
   * run waits for those before it returns; `signal` abandons them).
   */
  readonly onNotice?: (notice: RunNotice) => void;
}

export interface ApplyRunResult {
  readonly ok: true;
  readonly plan: Plan;
  readonly summary: RunSummary;
  /** The lockfile as the run left it. */
  readonly lock: Lockfile;
  /** Targets that failed or were skipped. */
  readonly failed: readonly string[];
  /** The CLI's exit code for this run: 0 all done, 1 a target failed or was skipped, 130 interrupted. */
  readonly exitCode: number;
}

export interface Refused {
  readonly ok: false;
  /** `output-clash`, `output-not-ours`, `frozen`, `max-cost`, `unpriced`, `remote-unavailable`: nothing was written or paid. */
  readonly refused: string;
  readonly diagnostics: readonly Diagnostic[];
  readonly needs?: readonly RunNeed[];
}

/** Plans and applies the manifest, as `vidbuild apply --yes` does (or `pull` with `frozen`). */
export async function apply(o: ApplyOptions = {}): Promise<ApplyRunResult | Refused | Failure> {
  const cwd = o.cwd ?? process.cwd();
  const opened = await openProject({ file: o.file ?? 'videos.yaml', cwd, lockFor: o.frozen === true ? 'pull' : 'apply' });
  if (!opened.ok) return { ok: false, diagnostics: opened.error };
  const project = opened.value;
  try {
    const selection = select(project, o);
    if (!selection.ok) return { ok: false, diagnostics: selection.error };
    const env = o.env ?? process.env;
    const store = await openRemote({ flag: o.remote, env, manifest: project.manifest.remote });
    if (!store.ok) return { ok: false, diagnostics: [store.error] };
    const { plan: p, facts, remote } = await planForApply(project, { ...selection.value, retryFailed: o.retryFailed, remote: store.value });
    const unchecked = remoteRefusal(remote, p, o.frozen === true);
    if (unchecked !== undefined) return { ok: false, refused: unchecked.code, diagnostics: [errorDiagnostic(unchecked.code, unchecked.message)] };
    const rails = await checkRails(project, p, {
      command: o.frozen === true ? 'pull' : 'apply',
      frozen: o.frozen === true,
      force: o.force === true,
      maxCost: o.maxCost,
      allowUnpriced: o.allowUnpriced === true,
      emulator: o.backend === 'emulator',
      manifestShown: path.relative(cwd, project.manifest.file) || project.manifest.file,
    });
    if (rails.refused !== undefined) {
      return {
        ok: false,
        refused: rails.refused.code,
        diagnostics: rails.lines.map((l) => errorDiagnostic(rails.refused?.code ?? 'refused', l)),
        ...(rails.refused.needs === undefined ? {} : { needs: rails.refused.needs }),
      };
    }
    const backend = await createBackend({
      kind: o.backend ?? 'openai',
      baseURL: o.baseURL,
      provider: project.manifest.provider,
      projectDir: project.manifest.projectDir,
      env,
      keyOptional: !needsApi(p),
    });
    if (!backend.ok) return { ok: false, diagnostics: [backend.error] };
    try {
      const { onEvent, onNotice } = o;
      const result = await applyPlan({
        manifest: project.manifest,
        plan: p,
        lock: project.lock,
        lockPath: project.lockPath,
        client: backend.value.client,
        fileHashes: facts.fileHashes,
        rateGate: backend.value.rateGate,
        ...(o.concurrency === undefined ? {} : { concurrency: o.concurrency }),
        ...(o.downloadConcurrency === undefined ? {} : { downloadConcurrency: o.downloadConcurrency }),
        frozen: o.frozen === true,
        force: o.force === true,
        pollMinMs: backend.value.pollMinMs,
        pollMaxMs: backend.value.pollMaxMs,
        ...(o.signal === undefined ? {} : { signal: o.signal }),
        // The key never reaches the caller, whatever a provider echoes.
        ...(onEvent === undefined ? {} : { onEvent: (e: ExecEvent) => onEvent(scrubbed(e, backend.value.secret)) }),
        ...(onNotice === undefined ? {} : { onNotice: (n: RunNotice) => onNotice(scrubbed(n, backend.value.secret)) }),
        free: backend.value.free,
        ...(usableStore(remote) === undefined ? {} : { remote: usableStore(remote) }),
      });
      return { ok: true, plan: p, summary: result.summary, lock: result.lock, failed: result.failed, exitCode: result.exitCode };
    } finally {
      await backend.value.close();
    }
  } finally {
    await project.runLock?.release();
  }
}

/** The key never reaches the caller, whatever a provider echoes into an event. */
function scrubbed<T>(value: T, secret: string | undefined): T {
  return JSON.parse(scrubSecret(JSON.stringify(value), secret)) as T;
}

function select(project: OpenProject, o: ProjectOptions): Result<{ targets?: readonly TargetName[]; replace?: readonly TargetName[] }, Diagnostic[]> {
  const targets = o.targets === undefined ? undefined : resolveTargetNames(project.manifest, o.targets);
  const replace = o.replace === undefined ? undefined : resolveTargetNames(project.manifest, o.replace);
  const bad = [...(targets !== undefined && !targets.ok ? targets.error : []), ...(replace !== undefined && !replace.ok ? replace.error : [])];
  if (bad.length > 0) {
    return err(
      unknownTargetNames(project.manifest, bad).map((u) =>
        errorDiagnostic('unknown-target', `no target named ${u.name} in ${path.basename(project.manifest.file)}${u.suggestion === undefined ? '' : ` (did you mean ${u.suggestion}?)`}`),
      ),
    );
  }
  const t = targets?.ok === true ? targets.value : undefined;
  const r = replace?.ok === true ? replace.value : undefined;
  // A target forced with `replace` is wanted even when `targets` narrows the run.
  const selected = t === undefined ? undefined : [...new Set([...t, ...(r ?? [])])];
  return ok({ ...(selected === undefined ? {} : { targets: selected }), ...(r === undefined ? {} : { replace: r }) });
}
