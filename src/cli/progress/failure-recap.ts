import type { ExecEvent } from '../../execute/events.js';
import type { Colors } from '../colors.js';

/**
 * The failures of a run, repeated under its final summary. In a run of 200
 * targets the one `✗ b: failed` line scrolled away minutes ago; the summary
 * says "1 failed" and this says which and why, without scrolling back.
 */
export class FailureRecap {
  private readonly failures: string[] = [];

  /** Listed in full up to this many; a longer list ends in "and N more". */
  static readonly LISTED = 20;

  observe(e: ExecEvent): void {
    if (e.type === 'job-failed') this.failures.push(`${e.name}: ${e.code}: ${e.message}`);
    else if (e.type === 'character-failed') this.failures.push(`character ${e.name}: ${e.code}: ${e.message}`);
  }

  /** Lines to print after the run-finished summary (none when nothing failed). */
  lines(c: Colors): string[] {
    if (this.failures.length === 0) return [];
    const shown = this.failures.slice(0, FailureRecap.LISTED).map((f) => `  ${c.red('✗')} ${f}`);
    const more = this.failures.length - shown.length;
    return [`Failed (${this.failures.length}):`, ...shown, ...(more > 0 ? [`  … and ${more} more`] : [])];
  }
}
