import type { Colors } from '../core/colors.js';
import { unreachable } from '../core/unreachable.js';
import type { Action, CharacterStep, Plan } from './plan.js';
import { planHasChanges } from './plan.js';
import { renderWordDiff, wordDiff } from './word-diff.js';
import { escapeControls } from '../core/terminal-text.js';

export interface RenderOptions {
  /** List unchanged targets one per line instead of only counting them. */
  readonly showUnchanged?: boolean;
}

type Paint = (s: string) => string;

/** Terraform's vocabulary, extended for what video builds need (fetch, resume, retry). */
function symbolOf(action: Action): string {
  switch (action) {
    case 'create':
      return '+';
    case 'replace':
    case 'regenerate':
      return '-/+';
    case 'resume':
      return '~';
    case 'retry':
      return 'r';
    case 'failed':
      return '!';
    case 'fetch':
      return '<=';
    case 'unchanged':
      return ' ';
    case 'orphan':
      return '-';
    default:
      return unreachable(action, 'action');
  }
}

function paintOf(action: Action, c: Colors): Paint {
  switch (action) {
    case 'create':
      return c.green;
    case 'replace':
    case 'regenerate':
      return c.yellow;
    case 'resume':
      return c.cyan;
    case 'retry':
      return c.magenta;
    case 'failed':
      return c.red;
    case 'fetch':
      return c.blue;
    case 'unchanged':
      return c.dim;
    case 'orphan':
      return c.red;
    default:
      return unreachable(action, 'action');
  }
}

interface Row {
  readonly action: Action;
  readonly name: string;
  readonly reason: string;
  readonly cost: string;
  /** Shown under the row: the prompt's word diff, for "prompt changed". */
  readonly detail?: string;
}

/**
 * Costs line up after the longest reason (a retry names its 50-character job
 * id, so reasons run to ~90); only a reason longer than this pushes its own
 * cost further right.
 */
const REASON_WIDTH_CAP = 100;

/**
 * The plan as a person reads it in a terminal or a pull request: one aligned
 * line per target that will change (symbol, name, action, reason, cost), then
 * one summary line. Colour comes only from `colors`, which the CLI turns off
 * for pipes and NO_COLOR, so the text is the same either way.
 */
export function renderPlan(plan: Plan, colors: Colors, options: RenderOptions = {}): string {
  const rows: Row[] = [];
  for (const c of plan.characters) {
    if (c.action === 'unchanged' && options.showUnchanged !== true) continue;
    rows.push({ action: characterAction(c), name: `${c.name} (character)`, reason: escapeControls(c.reason), cost: '' });
  }
  for (const s of plan.steps) {
    if (s.action === 'unchanged' && options.showUnchanged !== true) continue;
    const unpriced = s.action !== 'orphan' && s.unpriced === true;
    const cost = unpriced ? '$?' : s.cost > 0 ? money(s.cost) : '';
    const detail =
      s.action !== 'orphan' && s.promptChange !== undefined
        ? `prompt: ${renderWordDiff(wordDiff(s.promptChange.from, s.promptChange.to), { removed: (x) => colors.red(colors.strikethrough(x)), added: colors.green })}`
        : undefined;
    // A reason can quote the lock and the provider (a job's status, its error code).
    rows.push({ action: s.action, name: s.name, reason: escapeControls(s.reason), cost, ...(detail === undefined ? {} : { detail }) });
  }

  const changes = planHasChanges(plan);
  const failed = failedNotice(plan);
  const lines: string[] = [];
  if (rows.length > 0) {
    const symW = Math.max(...rows.map((r) => symbolOf(r.action).length));
    const nameW = Math.max(...rows.map((r) => displayWidth(r.name)));
    const actionW = Math.max(...rows.map((r) => r.action.length));
    const reasonW = Math.min(REASON_WIDTH_CAP, Math.max(0, ...rows.filter((r) => r.cost !== '').map((r) => displayWidth(r.reason))));
    const costW = Math.max(...rows.map((r) => r.cost.length));
    const heading = changes
      ? 'vidbuild will perform the following actions:'
      : failed !== undefined
        ? 'Nothing to generate or fetch; these stay as they are:'
        : 'Nothing to generate or fetch; the lockfile also records:';
    lines.push(heading, '');
    for (const r of rows) {
      const paint = paintOf(r.action, colors);
      const head = `${symbolOf(r.action).padStart(symW)} ${padDisplay(r.name, nameW)}`;
      const cost = r.cost === '' ? '' : `  ${r.cost.padStart(costW)}`;
      const reason = cost === '' ? r.reason : padDisplay(r.reason, reasonW);
      lines.push(`  ${paint(head)}  ${paint(r.action.padEnd(actionW))}  ${reason}${cost}`.trimEnd());
      if (r.detail !== undefined) lines.push(`  ${' '.repeat(symW + 1 + nameW)}  ${r.detail}`);
    }
    lines.push('');
  }
  if (!changes && failed === undefined) {
    lines.push(colors.green('No changes. Your videos match the manifest.'));
    return `${lines.join('\n')}\n`;
  }
  lines.push(summaryLine(plan, colors));
  if (failed !== undefined) lines.push(colors.red(failed));
  return `${lines.join('\n')}\n`;
}

/** Failed targets named before "and N more". */
const FAILED_LISTED = 3;

/**
 * One line about the `failed` steps of a plan, or undefined when there are
 * none: which targets failed with their current inputs and are not retried,
 * that their outputs are missing, and the two ways to retry. Shown under the
 * plan and, by apply, as the last line of a run that leaves them failed.
 */
export function failedNotice(plan: Plan): string | undefined {
  const failed = plan.steps.filter((s) => s.action === 'failed');
  if (failed.length === 0) return undefined;
  const names = new Set(failed.map((s) => s.name));
  // The ones whose own job failed; the rest derive from them.
  const roots = failed.filter((s) => s.action !== 'orphan' && !s.dependsOn.some((d) => names.has(d)));
  const waiting = failed.length - roots.length;
  const listed = roots.slice(0, FAILED_LISTED).map((s) => s.name);
  const more = roots.length - listed.length;
  const who = roots.length === 1 ? `${listed[0] ?? ''} failed with these inputs and is not retried` : `${roots.length} targets failed with these inputs and are not retried (${listed.join(', ')}${more > 0 ? ` and ${more} more` : ''})`;
  const outputs = roots.length === 1 ? 'its output is missing' : 'their outputs are missing';
  const derived = waiting === 0 ? '' : `, and ${waiting === 1 ? 'so is the output of 1 target' : `so are the outputs of ${waiting} targets`} derived from ${roots.length === 1 ? 'it' : 'them'}`;
  const replace = roots.length === 1 ? `--replace ${listed[0] ?? ''}` : '--replace NAME for one';
  return `${who}: ${outputs}${derived}; to try again (and pay again): vidbuild apply --retry-failed for every failed target, or ${replace}`;
}

function characterAction(c: CharacterStep): Action {
  return c.action;
}

/**
 * `Plan: 1 to create, 2 to replace, 5 unchanged. Estimated cost: ...`: only
 * the counters that are not zero, so the line fits a 120-column terminal
 * (all eight counters did not, and wrapped on every run).
 */
export function summaryLine(plan: Plan, colors: Colors): string {
  const n = plan.summary.counts;
  const counted: readonly (readonly [number, string])[] = [
    [n.create, 'to create'],
    [n.replace, 'to replace'],
    [n.resume, 'to resume'],
    [n.retry, 'to retry'],
    [n.failed, 'failed (not retried)'],
    [n.fetch, 'to fetch'],
    [n.regenerate, 'to regenerate'],
    [n.unchanged, 'unchanged'],
    [n.orphan, 'orphaned'],
  ];
  const parts = counted.filter(([count]) => count > 0).map(([count, words]) => `${count} ${words}`);
  // In the rows' words: a row that says `replace` is not counted as "to create".
  for (const action of ['create', 'replace', 'resume', 'fetch'] as const) {
    const count = plan.characters.filter((c) => c.action === action).length;
    if (count > 0) parts.push(`${count} character${count === 1 ? '' : 's'} to ${action}`);
  }
  return `${colors.bold('Plan:')} ${parts.length === 0 ? 'nothing to do' : parts.join(', ')}. Estimated cost: ${colors.bold(moneyAndUnpriced(plan.summary.cost, plan.summary.unpriced))} (prices of ${plan.summary.priceTableDate}).`;
}

export function money(usd: number): string {
  return `$${usd.toFixed(2)}`;
}

/**
 * A total that leaves steps out says so beside the number: `$0.40 + 4
 * unpriced`. A bare `$0.00` over five unpriced jobs read as "free".
 */
export function moneyAndUnpriced(usd: number, unpriced: number): string {
  return unpriced > 0 ? `${money(usd)} + ${unpriced} unpriced` : money(usd);
}

/**
 * Terminal columns a string takes: character names may be real names, with
 * combining accents (no column) or CJK letters (two columns), and the table
 * must still line up.
 */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    if (/\p{M}|\u200d/u.test(ch)) continue;
    w += isWide(ch.codePointAt(0) ?? 0) ? 2 : 1;
  }
  return w;
}

function padDisplay(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - displayWidth(s)));
}

/** East Asian Wide and Fullwidth ranges (Unicode UAX #11), the common blocks. */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}
