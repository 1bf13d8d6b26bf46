import type { Diagnostic } from '../core/diagnostic.js';
import type { Action, Plan } from './plan.js';
import { planHasChanges } from './plan.js';
import { failedNotice, money, moneyAndUnpriced } from './render-plan.js';

/**
 * `vidbuild plan --format markdown`: the plan as a pull-request comment a bot
 * posts (GitHub, GitLab and Gitea render the same subset): a heading that
 * says whether anything is generated and what it costs, one table row per
 * target that changes, unchanged targets folded away, warnings as a list.
 *
 * Names, reasons and messages come from the manifest, the lock and the
 * provider; a comment is read by reviewers, so none of them may add a row,
 * a link, an image or HTML to it: every cell is escaped.
 */
export interface MarkdownPlanOptions {
  /** The manifest as the user named it, for the heading. */
  readonly file: string;
  readonly warnings?: readonly Diagnostic[];
  /** A line under the heading, e.g. that the emulator bills nothing. */
  readonly note?: string;
}

/** Unchanged names listed in the folded section before "and N more". */
const UNCHANGED_LISTED = 50;
/** Rows of changes before "and N more": a comment has a size limit (GitHub: 65,536 characters). */
const ROWS_LISTED = 200;

const SYMBOL: Record<Action, string> = {
  create: '+',
  replace: '-/+',
  regenerate: '-/+',
  resume: '~',
  retry: 'r',
  failed: '!',
  fetch: '<=',
  unchanged: '',
  orphan: '-',
};

export function renderPlanMarkdown(plan: Plan, o: MarkdownPlanOptions): string {
  const changes = planHasChanges(plan);
  const failed = failedNotice(plan);
  const lines: string[] = [`### vidbuild plan: \`${code(o.file)}\``, ''];
  if (!changes && failed === undefined) {
    lines.push('**No changes.** Your videos match the manifest.', '');
  } else {
    const n = plan.summary.counts;
    const counts = (
      [
        ['create', n.create],
        ['replace', n.replace],
        ['resume', n.resume],
        ['retry', n.retry],
        ['failed', n.failed],
        ['fetch', n.fetch],
        ['regenerate', n.regenerate],
        ['orphaned', n.orphan],
      ] as const
    )
      .filter(([, count]) => count > 0)
      .map(([word, count]) => (word === 'orphaned' ? `${count} orphaned` : word === 'failed' ? `${count} failed (not retried)` : `${count} to ${word}`));
    const cost = `estimated cost **${moneyAndUnpriced(plan.summary.cost, plan.summary.unpriced)}**`;
    lines.push(`**${counts.join(', ')}**; ${cost} (prices of ${text(plan.summary.priceTableDate)}).`, '');
    if (failed !== undefined) lines.push(text(failed), '');
  }
  if (o.note !== undefined) lines.push(`_${text(o.note)}_`, '');

  const rows: string[] = [];
  for (const c of plan.characters) {
    if (c.action === 'unchanged') continue;
    rows.push(row(SYMBOL[c.action], `${c.name} (character)`, c.action, c.reason, ''));
  }
  for (const s of plan.steps) {
    if (s.action === 'unchanged') continue;
    const cost = s.action !== 'orphan' && s.unpriced === true ? '$?' : s.cost > 0 ? money(s.cost) : '';
    rows.push(row(SYMBOL[s.action], s.name, s.action, s.reason, cost));
  }
  if (rows.length > 0) {
    lines.push('| | target | action | reason | cost |', '| --- | --- | --- | --- | ---: |');
    lines.push(...rows.slice(0, ROWS_LISTED));
    if (rows.length > ROWS_LISTED) lines.push(`| | _and ${rows.length - ROWS_LISTED} more_ | | | |`);
    lines.push('');
  }

  const unchanged = plan.steps.filter((s) => s.action === 'unchanged').map((s) => s.name);
  if (unchanged.length > 0 && changes) {
    const listed = unchanged.slice(0, UNCHANGED_LISTED).map((name) => `\`${code(name)}\``).join(', ');
    const more = unchanged.length > UNCHANGED_LISTED ? `, and ${unchanged.length - UNCHANGED_LISTED} more` : '';
    lines.push(`<details><summary>${unchanged.length} unchanged</summary>`, '', `${listed}${more}`, '', '</details>', '');
  }
  const warnings = [...(o.warnings ?? []), ...(plan.warnings ?? [])];
  if (warnings.length > 0) {
    lines.push('**Warnings**', '');
    for (const w of warnings) lines.push(`- ${text(w.message)}`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function row(symbol: string, name: string, action: string, reason: string, cost: string): string {
  return `| ${symbol === '' ? '' : `\`${symbol}\``} | \`${code(name)}\` | ${action} | ${text(reason)} | ${cost} |`;
}

/**
 * Text in a table cell or a list item: one line, no HTML, no Markdown that
 * could make a link, an image, emphasis or a new cell. Backslash escapes
 * are what CommonMark defines for ASCII punctuation; `<` and `>` become
 * entities so nothing opens a tag.
 */
export function text(s: string): string {
  return flat(s)
    .replace(/[\\`*_{}[\]()#+!|~]/g, (ch) => `\\${ch}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** Inside a code span: backticks cannot be escaped there, so they become a look-alike; `|` still splits a table cell. */
function code(s: string): string {
  return flat(s).replace(/`/g, 'ʼ').replace(/\|/g, '\\|');
}

/** Newlines and control characters would end the row: one line, controls shown as escapes. */
function flat(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\r\n|\r|\n/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
