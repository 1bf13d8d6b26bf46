import { isPaidAction, planHasChanges, type Plan, type TargetStep } from '../plan/plan.js';
import type { TargetName } from '../manifest/manifest.js';
import { describeUnpriced, unpricedSteps } from '../plan/unpriced.js';
import { formatUsd } from '../core/usd.js';
import { seedCacheFromOutputs } from '../cache/seed-from-outputs.js';
import { planProject, type OpenProject, type Planned } from './open-project.js';
import { filesInTheWay, outputClashes } from './output-checks.js';
import type { ObjectStore } from '../remote/object-store.js';
import { NO_REMOTE, probeRemoteFor, type RunRemote } from './run-remote.js';
import { RemoteCache } from '../remote/remote-cache.js';
import { LocalCache } from '../cache/local-cache.js';

/**
 * What apply does between opening a project and sending the first request,
 * shared by the CLI (`vidbuild apply`, `pull`) and the library (`apply()`):
 * plan (twice when outputs on disk can refill the cache), then the rails that
 * refuse a run before anything is written or paid. No printing here: the
 * caller gets lines to show and, when refused, a code and a message.
 */
export interface PlanForApplyOptions {
  readonly targets?: readonly TargetName[] | undefined;
  readonly replace?: readonly TargetName[] | undefined;
  readonly retryFailed?: boolean | undefined;
  /** The team's remote (remote/open-remote.ts), not yet asked anything. */
  readonly remote?: ObjectStore | undefined;
}

export interface PlannedForApply extends Planned {
  /** Whether the remote answered; probed only when the plan could use it. */
  readonly remote: RunRemote;
}

export function planForApply(project: OpenProject, o: PlanForApplyOptions): Promise<PlannedForApply> {
  return planThroughRemote(project, o, (options) => planLocally(project, options));
}

/**
 * As `planForApply`, but writing nothing (`vidbuild plan`, the library's
 * `plan()`): outputs on disk are not copied into the cache. What apply's
 * rails would refuse for another manifest's outputs is said as a warning, so
 * a review sees it before apply does.
 */
export async function planForReview(project: OpenProject, o: PlanForApplyOptions): Promise<PlannedForApply> {
  const planned = await planThroughRemote(project, o, (options) => planProject(project, options));
  const clashes = await outputClashes(project, planned.plan);
  if (clashes.length === 0) return planned;
  const warnings = clashes.map((line) => ({ code: 'output-clash', severity: 'warning' as const, message: line.replace(/; nothing was done$/, '; apply refuses this') }));
  return { ...planned, plan: { ...planned.plan, warnings: [...(planned.plan.warnings ?? []), ...warnings] } };
}

async function planThroughRemote(project: OpenProject, o: PlanForApplyOptions, planWith: (options: Parameters<typeof planProject>[1]) => Promise<Planned>): Promise<PlannedForApply> {
  const planOptions = { targets: o.targets, replace: o.replace, retryFailed: o.retryFailed };
  const local = await planWith(planOptions);
  const remote = o.remote === undefined ? NO_REMOTE : await probeRemoteFor(local.plan, o.remote);
  if (remote.state !== 'ready' || paidSteps(local.plan).length === 0) return { ...local, remote };
  // Planned again with the remote behind the local cache: what would pay may be a $0 restore.
  const shared = await planWith({ ...planOptions, remote: new RemoteCache(remote.store, new LocalCache(project.manifest.projectDir)) });
  if (shared.remoteProblem === undefined) return { ...shared, remote };
  return { ...shared, remote: { state: 'down', store: remote.store, error: { code: 'failed', message: shared.remoteProblem } } };
}

async function planLocally(project: OpenProject, planOptions: Parameters<typeof planProject>[1]): Promise<Planned> {
  const planned = await planProject(project, planOptions);
  // Outputs on disk that the cache lacks (a deleted .vidbuild, committed
  // outputs on a fresh clone) go into it, and the plan is made again, so it
  // can restore from them instead of downloading or paying again. Only when
  // there is work: copying every output of an up-to-date project into the
  // cache made a no-op apply over 1,000 targets take 9 s instead of 0.6 s.
  if (planHasChanges(planned.plan) && (await seedCacheFromOutputs(project.manifest.projectDir, project.lock)) > 0) {
    return planProject(project, planOptions);
  }
  return planned;
}

export interface RailOptions {
  /** `pull` restores what it can around targets that need a new job; `apply --frozen` refuses them all. */
  readonly command: 'apply' | 'pull';
  readonly frozen: boolean;
  readonly force: boolean;
  readonly maxCost: number | undefined;
  readonly allowUnpriced: boolean;
  /** The run goes to the emulator: a refusal says its prices are not billed. */
  readonly emulator: boolean;
  /** The manifest as the user names it, for the `pricing:` hint. */
  readonly manifestShown: string;
}

export interface RunNeed {
  readonly name: string;
  readonly action: string;
  readonly reason: string;
}

export interface Rails {
  /** Lines for stderr, in order (warnings, what a frozen run cannot do). */
  readonly lines: readonly string[];
  /** Set when the run must not start: nothing was written or paid. */
  readonly refused?: { readonly code: string; readonly message: string; readonly needs?: readonly RunNeed[] };
}

export async function checkRails(project: OpenProject, plan: Plan, o: RailOptions): Promise<Rails> {
  const lines: string[] = [];
  const clashes = await outputClashes(project, plan);
  if (clashes.length > 0) return { lines: clashes, refused: { code: 'output-clash', message: clashes[0] ?? '' } };
  const inTheWay = o.frozen ? [] : await filesInTheWay(project, plan);
  const blocked = o.force ? inTheWay.filter((f) => f.always === true) : inTheWay;
  if (blocked.length > 0) {
    return { lines: blocked.map((f) => f.message), refused: { code: 'output-not-ours', message: blocked[0]?.message ?? '' } };
  }
  for (const f of inTheWay) lines.push(`warning: ${f.name}: ${f.path} is not vidbuild's; --force moves it aside before the new job's output takes its place`);

  const paid = paidSteps(plan);
  // Failed before with these inputs, and not retried: apply leaves them (and exits 1).
  const unretried = plan.steps.filter((s) => s.action === 'failed');
  if (o.frozen && (paid.length > 0 || unretried.length > 0 || plan.characters.some((c) => c.action === 'create' || c.action === 'replace'))) {
    const who = o.command === 'pull' ? 'vidbuild pull' : '--frozen';
    lines.push(`${who}: these need new jobs, which it never creates:`);
    const needs: RunNeed[] = [];
    for (const s of [...paid, ...unretried]) needs.push({ name: s.name, action: s.action, reason: s.reason });
    for (const c of plan.characters) {
      if (c.action === 'create' || c.action === 'replace') needs.push({ name: `character ${c.name}`, action: c.action, reason: c.reason });
    }
    for (const n of needs) lines.push(`  ${n.name}: ${n.action} (${n.reason})`);
    // `pull` is "give me what exists": one new or failed target must not keep
    // every other output of a fresh clone from coming back. It restores the
    // rest (the executor fails the paid steps with `frozen`, so it exits 1).
    // `apply --frozen` is a CI gate and refuses the run as a whole.
    const restorable = plan.steps.some((s) => s.action === 'fetch' || (s.action === 'resume' && s.cost === 0));
    const how = unretried.length === 0 ? 'run `vidbuild apply` to generate them' : 'run `vidbuild apply` to generate them (`vidbuild apply --retry-failed`, or --replace NAME, for the failed ones)';
    if (o.command !== 'pull' || !restorable) {
      lines.push(how);
      return { lines, refused: { code: 'frozen', message: `${who}: ${needs.length === 1 ? 'a target needs a new job' : `${needs.length} targets need new jobs`}, which it never creates`, needs } };
    }
    lines.push(`restoring everything else; ${how}`);
  }
  // Frozen runs never spend: their plan's cost is what they refuse, not a budget.
  if (!o.frozen && o.maxCost !== undefined && plan.summary.cost > o.maxCost) {
    // Refused on the emulator too: a rehearsal should fail where the real run would.
    const free = o.emulator ? ' at API prices (free on the emulator)' : '';
    const message = `the plan is estimated at ${formatUsd(plan.summary.cost)}${free}, above --max-cost ${formatUsd(o.maxCost)}; nothing was done`;
    return { lines: [...lines, message], refused: { code: 'max-cost', message } };
  }
  // An unknown price is not $0: a budget cannot bound a step without one.
  const unpriced = o.frozen || o.maxCost === undefined || o.allowUnpriced ? [] : unpricedSteps(plan);
  if (unpriced.length > 0 && o.maxCost !== undefined) {
    const message =
      `--max-cost ${formatUsd(o.maxCost)} cannot bound this plan: ${describeUnpriced(unpriced)}; ` +
      `give the price under \`pricing:\` in ${o.manifestShown} (USD per second), or pass --allow-unpriced; nothing was done`;
    return { lines: [...lines, message], refused: { code: 'unpriced', message } };
  }
  return { lines };
}

export function paidSteps(plan: Plan): TargetStep[] {
  return plan.steps.filter((s): s is TargetStep => s.action !== 'orphan' && isPaidAction(s.action));
}

/** Whether the run needs the API at all (a run that only restores from the cache needs no key). */
export function needsApi(plan: Plan): boolean {
  if (plan.characters.some((c) => c.action !== 'unchanged' && c.action !== 'orphan')) return true;
  return plan.steps.some((s) => {
    if (s.action === 'orphan' || s.action === 'unchanged' || s.action === 'failed') return false;
    if (s.action !== 'fetch') return true;
    return s.fromCache === undefined && s.restores.some((r) => r.from !== 'cache' && r.from !== 'remote-cache');
  });
}
