import type { TargetName } from '../manifest/manifest.js';
import type { Fingerprint } from '../lock/lockfile.js';
import { isPaidAction, type Action, type Plan, type PlanStep, type TargetStep } from '../plan/plan.js';
import { roundCents } from '../plan/pricing.js';

/**
 * Decides which paid steps of a plan watch will *not* run this cycle, and
 * returns the plan without them. Pure.
 *
 * - A target whose current fingerprint already failed (in the lockfile, or
 *   earlier this session) is held: resubmitting identical inputs on every
 *   save would pay for the same failure again. It runs when its inputs change
 *   (new fingerprint) or when the user asks (`r`, `--retry-failed`).
 * - `--max-cost` is a budget for the whole session: paid steps are admitted
 *   in plan order while the running total stays within it; the rest are held.
 *   A step with no known price is held under a budget (its cost is unknown,
 *   not $0) unless `--allow-unpriced`.
 * - A paid step that derives from a held step is held too (it would otherwise
 *   run against the source's old job).
 */
export interface HoldOptions {
  /** Target → fingerprint that failed earlier in this session. */
  readonly failedThisSession: ReadonlyMap<TargetName, Fingerprint>;
  readonly retryFailed: boolean;
  /** Estimated USD already spent this session. */
  readonly spent: number;
  readonly maxCost: number | undefined;
  /** `--allow-unpriced`: under a budget, run steps with no known price anyway. */
  readonly allowUnpriced?: boolean;
}

/** Why a paid step is not run this cycle. */
export type Hold =
  | { readonly reason: 'failed-before'; readonly message: string }
  | { readonly reason: 'over-budget'; readonly message: string }
  | { readonly reason: 'unpriced'; readonly message: string }
  | { readonly reason: 'source-held'; readonly source: TargetName; readonly message: string };

export interface HeldPlan {
  readonly plan: Plan;
  readonly held: ReadonlyMap<TargetName, Hold>;
}

export function holdSteps(plan: Plan, options: HoldOptions): HeldPlan {
  const held = new Map<TargetName, Hold>();
  let total = options.spent;
  const kept: PlanStep[] = [];
  for (const step of plan.steps) {
    if (step.action === 'orphan' || !isPaidAction(step.action)) {
      kept.push(step);
      continue;
    }
    const hold = holdOf(step, options, held, total);
    if (hold !== undefined) {
      held.set(step.name, hold);
      continue;
    }
    total += step.cost;
    kept.push(step);
  }
  return { plan: held.size === 0 ? plan : { ...plan, steps: kept, summary: summarize(kept, plan.summary.priceTableDate) }, held };
}

function holdOf(
  step: TargetStep,
  options: HoldOptions,
  held: ReadonlyMap<TargetName, Hold>,
  total: number,
): Hold | undefined {
  const source = step.dependsOn.find((d) => held.has(d));
  if (source !== undefined) return { reason: 'source-held', source, message: `waits for ${source} (held)` };
  if (!options.retryFailed) {
    const lockedFailed =
      step.action === 'retry' && step.locked !== undefined && step.locked.fingerprint === step.fingerprint;
    const sessionFailed = options.failedThisSession.get(step.name) === step.fingerprint;
    if (lockedFailed || sessionFailed) {
      return { reason: 'failed-before', message: 'failed with these inputs; press r or use --retry-failed to resubmit' };
    }
  }
  if (options.maxCost !== undefined && step.unpriced === true && options.allowUnpriced !== true) {
    return {
      reason: 'unpriced',
      message:
        `no known price for ${step.target.model} at ${step.target.size}, so --max-cost cannot bound it ` +
        '(give it under `pricing:` in the manifest, or restart watch with --allow-unpriced)',
    };
  }
  if (options.maxCost !== undefined && roundCents(total + step.cost) > options.maxCost) {
    // Say what the step costs and where it would take the session: "spent
    // 0.00" next to a budget of 0.50 read as if nothing could be over it.
    return {
      reason: 'over-budget',
      message:
        `$${step.cost.toFixed(2)} would bring the session to $${roundCents(total + step.cost).toFixed(2)}, ` +
        `over --max-cost $${options.maxCost.toFixed(2)} (restart watch with a higher --max-cost to run it)`,
    };
  }
  return undefined;
}

function summarize(steps: readonly PlanStep[], priceTableDate: string): Plan['summary'] {
  const counts: Record<Action, number> = { create: 0, replace: 0, resume: 0, retry: 0, failed: 0, fetch: 0, regenerate: 0, unchanged: 0, orphan: 0 };
  let cost = 0;
  let unpriced = 0;
  for (const s of steps) {
    counts[s.action]++;
    cost += s.cost;
    if (s.action !== 'orphan' && s.unpriced === true) unpriced++;
  }
  return { counts, cost: roundCents(cost), unpriced, priceTableDate };
}
