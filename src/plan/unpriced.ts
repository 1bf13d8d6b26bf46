import type { Plan, TargetStep } from './plan.js';

/**
 * Paid steps whose model/size has no known price (`$?`). Their cost is not
 * $0, it is unknown, so a budget cannot bound them: `apply --max-cost` and
 * watch's session budget refuse them unless the price is given or the user
 * passes `--allow-unpriced`.
 */
export function unpricedSteps(plan: Plan): TargetStep[] {
  return plan.steps.filter((s): s is TargetStep => s.action !== 'orphan' && s.unpriced === true);
}

/** Names listed before "and N more": the line must stay one line. */
const NAMES_LISTED = 3;

/**
 * `5 jobs have no known price (a, b, c and 2 more; sora-2 at 1024x1792)`:
 * which targets, and the model/size pairs a `pricing:` entry needs.
 */
export function describeUnpriced(steps: readonly TargetStep[]): string {
  const names = steps.slice(0, NAMES_LISTED).map((s) => s.name);
  const more = steps.length - names.length;
  const who = more > 0 ? `${names.join(', ')} and ${more} more` : joinWords(names);
  const pairs = [...new Set(steps.map((s) => `${s.target.model} at ${s.target.size}`))];
  const shownPairs = pairs.slice(0, NAMES_LISTED).join(', ') + (pairs.length > NAMES_LISTED ? ` and ${pairs.length - NAMES_LISTED} more` : '');
  const verb = steps.length === 1 ? 'job has' : 'jobs have';
  return `${steps.length} ${verb} no known price (${who}; ${shownPairs})`;
}

function joinWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1] ?? ''}`;
}
