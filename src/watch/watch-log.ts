import { formatDiagnostic } from '../core/diagnostic.js';
import { unreachable } from '../core/unreachable.js';
import type { Action } from '../plan/plan.js';
import { moneyAndUnpriced } from '../plan/render-plan.js';
import type { WatchEvent } from './watch-events.js';

/**
 * Human lines for the watch events that are watch's own (executor events are
 * rendered by cli/progress, like in apply). Pure: returns lines, prints nothing.
 * A re-plan lists only the steps that do something, never the unchanged plan.
 */
export interface LineColors {
  readonly green: (s: string) => string;
  readonly red: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly cyan: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
}

export function describeWatchEvent(e: Exclude<WatchEvent, { type: 'exec' }>, c: LineColors): readonly string[] {
  switch (e.type) {
    case 'cycle-start':
      if (e.cycle === 1) return [];
      if (e.changed.length === 0) return ['', c.bold(e.retryFailed ? '↻ retrying failed targets' : '↻ re-planning')];
      return ['', c.bold(`↻ ${e.changed.join(', ')} changed${e.retryFailed ? ' (retrying failed targets)' : ''}`)];
    case 'manifest-invalid':
      return [
        ...e.diagnostics.map((d) => c.red(formatDiagnostic(d))),
        c.yellow(
          e.beforeFirstApply
            ? 'watch: waiting for a valid manifest before the first apply. Fix the error and save (q quits).'
            : 'watch: nothing was run; the last good outputs stay. Fix the error and save.',
        ),
      ];
    case 'replan': {
      const still = e.stillHeld > 0 ? ` (${e.stillHeld} still held)` : '';
      if (e.steps.length === 0 && e.held.length === 0) return [`no changes${still}`];
      const lines = e.steps.map(
        (s) => `  ${symbol(s.action, c)} ${s.name}: ${s.action}${s.reason === '' ? '' : ` (${s.reason})`}${s.cost > 0 ? ` ${usd(s.cost)}` : ''}`,
      );
      for (const h of e.held) lines.push(`  ${c.yellow('!')} ${h.name}: held: ${h.reason}`);
      const running = e.steps.filter((s) => s.action !== 'orphan').length;
      lines.push(
        `re-plan: ${running} to run, ${e.free ? `est. ${moneyAndUnpriced(e.cost, e.unpriced)} at API prices, free on the emulator` : `estimated ${moneyAndUnpriced(e.cost, e.unpriced)}`}${e.spent > 0 ? ` (session so far ${e.free ? 'est. ' : ''}${usd(e.spent)})` : ''}${still}`,
      );
      return lines;
    }
    case 'superseded':
      return [c.yellow('↻ newer change: no new jobs start; jobs already paid for keep going; re-planning')];
    case 'obsolete-job':
      switch (e.state) {
        case 'finishing':
          return [`  ${e.name}: job ${e.jobId} is obsolete (inputs changed); finishing it into the cache`];
        case 'cached':
          return [`${c.green('✓')} ${e.name}: obsolete job ${e.jobId} saved in the cache (revert the edit to restore it for free)`];
        case 'failed':
          return [`${c.yellow('!')} ${e.name}: obsolete job ${e.jobId} did not finish: ${e.message ?? 'failed'}`];
        case 'abandoned':
          return [`${c.yellow('!')} ${e.name}: obsolete job ${e.jobId} left unfinished (${e.message ?? 'session ended'})`];
        default:
          return unreachable(e.state, 'obsolete state');
      }
    case 'warning':
      return [c.yellow(formatDiagnostic(e.diagnostic))];
    case 'idle':
      return [c.dim(`watching ${e.files} file(s) for changes (q quit, r retry failed)`)];
    default:
      return unreachable(e, 'watch event');
  }
}

function symbol(action: Exclude<Action, 'unchanged'>, c: LineColors): string {
  switch (action) {
    case 'create':
      return c.green('+');
    case 'replace':
      return c.yellow('-/+');
    case 'retry':
    case 'regenerate':
      return c.yellow('~');
    case 'failed':
      return c.red('!');
    case 'resume':
      return c.cyan('…');
    case 'fetch':
      return c.cyan('↓');
    case 'orphan':
      return c.red('-');
    default:
      return unreachable(action, 'action');
  }
}

function usd(n: number): string {
  return `$${n.toFixed(2)}`;
}
