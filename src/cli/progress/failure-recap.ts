import type { ExecEvent } from '../../execute/events.js';
import type { Colors } from '../colors.js';

/**
 * The failures of a run, repeated under its final summary. In a run of 200
 * targets the one `✗ b: failed` line scrolled away minutes ago; the summary
 * says "1 failed" and this says which and why, without scrolling back.
 */
export class FailureRecap {
  /** Per failed target (or character), its failures in order: one target can fail once per output. */
  private readonly failures = new Map<string, string[]>();

  /** Listed in full up to this many; a longer list ends in "and N more". */
  static readonly LISTED = 20;

  observe(e: ExecEvent): void {
    if (e.type === 'job-failed') this.add(e.name, `${e.code}: ${e.message}`);
    else if (e.type === 'character-failed') this.add(`character ${e.name}`, `${e.code}: ${e.message}`);
  }

  private add(who: string, what: string): void {
    const list = this.failures.get(who);
    if (list === undefined) this.failures.set(who, [what]);
    else if (!list.includes(what)) list.push(what);
  }

  /** Lines to print after the run-finished summary (none when nothing failed): one entry per target, as the summary counts them. */
  lines(c: Colors): string[] {
    if (this.failures.size === 0) return [];
    const entries = [...this.failures];
    const shown = entries.slice(0, FailureRecap.LISTED).flatMap(([who, [first, ...rest]]) => [`  ${c.red('✗')} ${who}: ${first ?? ''}`, ...rest.map((r) => `      ${r}`)]);
    const more = entries.length - Math.min(entries.length, FailureRecap.LISTED);
    return [`Failed (${entries.length}):`, ...shown, ...(more > 0 ? [`  … and ${more} more`] : [])];
  }
}
