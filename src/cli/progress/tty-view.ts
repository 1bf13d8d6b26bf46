import type { ExecEvent } from '../../execute/events.js';
import type { Colors } from '../colors.js';
import { describeEvent, formatDuration } from './describe-event.js';
import { FailureRecap } from './failure-recap.js';
import { escapeControls, oneLine } from '../../core/terminal-text.js';

/**
 * The live view for a person at a terminal: permanent lines (submitted,
 * completed, failed…) scroll above a live block with one line per running
 * job — name, status, a progress bar, elapsed time — redrawn in place with
 * ANSI cursor moves (no dependency). Redraws are throttled.
 *
 * Two things must hold whatever the terminal does:
 * - every live line fits in the terminal's width (a wrapped line would make
 *   "move up N lines" land in the wrong place and smear the screen), so the
 *   line degrades as the terminal narrows: shorter bar, no bar, no status,
 *   truncated name, and below a minimum width no live block at all;
 * - the cursor, hidden while the block is live, is shown again on stop(), on
 *   process exit, and before a SIGTERM/SIGHUP ends the process.
 */
export interface TtyStream {
  write(chunk: string): boolean;
  readonly columns?: number;
  readonly rows?: number;
  on?(event: 'resize', listener: () => void): unknown;
  off?(event: 'resize', listener: () => void): unknown;
}

interface Running {
  readonly name: string;
  status: string;
  progress: number;
  readonly startedAt: number;
}

const MAX_BAR = 24;
const MIN_BAR = 6;
const MAX_NAME = 24;
/** Below this many columns the live block is not drawn (permanent lines still are). */
export const MIN_LIVE_COLUMNS = 16;
const REDRAW_MS = 100;

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/** What the header of the live block counts: targets of the plan by where they are. */
interface Tally {
  /** Targets the plan runs (all but unchanged and orphaned), once plan-ready was seen. */
  total: number | undefined;
  done: number;
  failed: number;
  skipped: number;
}

export class TtyView {
  private readonly running = new Map<string, Running>();
  private readonly tally: Tally = { total: undefined, done: 0, failed: 0, skipped: 0 };
  private readonly recap = new FailureRecap();
  private drawnLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private cursorHidden = false;
  private stopped = false;
  private readonly onExit = (): void => this.showCursor();
  private readonly onFatalSignal = (signal: NodeJS.Signals): void => {
    this.stop();
    // Alone, we replaced the default action (terminate): do it. Otherwise
    // another handler already got this signal and decides.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  private readonly onResize = (): void => {
    // After a resize the old block may have re-wrapped: wipe to the end of
    // the screen from where it started and draw it again at the new width.
    this.redraw();
  };

  constructor(
    private readonly out: TtyStream,
    private readonly colors: Colors,
  ) {
    this.timer = setInterval(() => {
      // Elapsed times move even when no event arrives.
      if (this.running.size > 0 || this.dirty) this.redraw();
    }, 500);
    this.timer.unref();
    process.on('exit', this.onExit);
    process.on('SIGTERM', this.onFatalSignal);
    process.on('SIGHUP', this.onFatalSignal);
    out.on?.('resize', this.onResize);
  }

  readonly onEvent = (e: ExecEvent): void => {
    this.recap.observe(e);
    switch (e.type) {
      case 'plan-ready':
        // The plan itself was printed above; here it only sets the header's total.
        this.tally.total = e.plan.steps.filter((st) => st.action !== 'unchanged' && st.action !== 'orphan').length;
        this.tally.done = this.tally.failed = this.tally.skipped = 0;
        this.scheduleRedraw();
        return;
      case 'target-done':
        if (e.outcome !== 'unchanged') this.tally.done++;
        break;
      case 'job-submitted':
        this.running.set(e.name, { name: e.name, status: 'queued', progress: 0, startedAt: Date.now() });
        break;
      case 'job-progress': {
        const r = this.running.get(e.name);
        if (r !== undefined) {
          r.status = e.status;
          r.progress = e.progress;
        }
        break;
      }
      case 'job-completed':
        this.running.delete(e.name);
        break;
      case 'job-failed':
        this.tally.failed++;
        this.running.delete(e.name);
        break;
      case 'job-skipped':
        this.tally.skipped++;
        this.running.delete(e.name);
        break;
      case 'interrupted':
        this.running.clear();
        break;
      default:
        break;
    }
    const line = describeEvent(e, this.colors);
    if (line !== undefined) this.print(line);
    else this.scheduleRedraw();
    if (e.type === 'run-finished') for (const l of this.recap.lines(this.colors)) this.print(l);
  };

  /**
   * `  3/10 done · 2 running · 4 waiting · 1 failed`: where the run stands,
   * over the running jobs. "Waiting" are targets not started yet: for a
   * concurrency slot, or for their source to finish.
   */
  private header(width: number): string {
    const t = this.tally;
    const parts: string[] = [];
    parts.push(t.total === undefined ? `${t.done} done` : `${t.done}/${t.total} done`);
    parts.push(`${this.running.size} running`);
    if (t.total !== undefined) {
      const waiting = t.total - t.done - t.failed - t.skipped - this.running.size;
      if (waiting > 0) parts.push(`${waiting} waiting`);
    }
    if (t.failed > 0) parts.push(this.colors.red(`${t.failed} failed`));
    if (t.skipped > 0) parts.push(`${t.skipped} skipped`);
    const plain = `  ${parts.join(' · ')}`;
    // Colour codes take no columns; fit on the text without them.
    return plain.replace(/\u001b\[[0-9;]*m/g, '').length <= width ? plain : fit(`  ${t.done}${t.total === undefined ? '' : `/${t.total}`} · ${this.running.size} run`, width);
  }

  /** A permanent line above the live block. */
  print(line: string): void {
    this.clear();
    this.out.write(`${oneLine(line)}\n`);
    this.draw();
  }

  /** Removes the live block and gives the cursor back. Safe to call twice. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    this.clear();
    this.showCursor();
    this.detach();
  }

  private detach(): void {
    process.removeListener('exit', this.onExit);
    process.removeListener('SIGTERM', this.onFatalSignal);
    process.removeListener('SIGHUP', this.onFatalSignal);
    this.out.off?.('resize', this.onResize);
  }

  private showCursor(): void {
    if (!this.cursorHidden) return;
    this.cursorHidden = false;
    this.out.write(SHOW_CURSOR);
  }

  private scheduleRedraw(): void {
    if (this.dirty) return;
    this.dirty = true;
    setTimeout(() => this.redraw(), REDRAW_MS).unref();
  }

  private redraw(): void {
    this.dirty = false;
    this.clear();
    this.draw();
  }

  private clear(): void {
    if (this.drawnLines === 0) return;
    // Up N lines, then clear to the end of the screen.
    this.out.write(`\x1b[${this.drawnLines}A\r\x1b[J`);
    this.drawnLines = 0;
  }

  private draw(): void {
    if (this.stopped) return;
    // A pseudo-terminal nobody sized reports 0 x 0: treat that as unknown.
    const columns = positiveOr(this.out.columns, 80);
    const rows = [...this.running.values()];
    if (rows.length === 0 || columns < MIN_LIVE_COLUMNS) return;
    const shown = rows.slice(0, Math.max(1, positiveOr(this.out.rows, 24) - 5));
    const now = Date.now();
    const lines = [this.colors.dim(this.header(columns - 1)), ...shown.map((r) => liveLine(r, now, columns - 1, this.colors))];
    if (rows.length > shown.length) lines.push(this.colors.dim(fit(`  … and ${rows.length - shown.length} more`, columns - 1)));
    if (!this.cursorHidden) {
      this.cursorHidden = true;
      this.out.write(HIDE_CURSOR);
    }
    this.out.write(`${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
  }
}

/**
 * One running job in at most `width` visible columns. Pieces are dropped in
 * order of usefulness: the bar shrinks and goes first, then the status, and
 * the name is truncated last; percentage and elapsed time stay.
 */
export function liveLine(r: { name: string; status: string; progress: number; startedAt: number }, nowMs: number, width: number, colors: Colors): string {
  const pct = `${String(Math.round(r.progress)).padStart(3)}%`;
  const elapsed = formatDuration(nowMs - r.startedAt);
  const status = escapeControls(r.status.replace('_', ' ')).padEnd(11);
  const tail = ` ${pct} ${elapsed}`;
  const nameLen = Math.min(MAX_NAME, Math.max(r.name.length, 4));
  const indent = '  ';

  // Full line: indent name status bar pct elapsed
  const fixed = indent.length + nameLen + 1 + status.length + 1 + tail.length;
  const barRoom = width - fixed;
  if (barRoom >= MIN_BAR) {
    const barWidth = Math.min(MAX_BAR, barRoom);
    return `${indent}${fitName(r.name, nameLen)} ${status} ${bar(r.progress, barWidth, colors)}${tail}`;
  }
  // No bar.
  if (fixed - 1 <= width) return `${indent}${fitName(r.name, nameLen)} ${status.trimEnd()}${tail}`.slice(0, width);
  // No status, name truncated to what is left.
  const room = width - indent.length - tail.length;
  if (room >= 2) return `${indent}${fitName(r.name, Math.min(nameLen, room))}${tail}`;
  return fit(`${r.name} ${pct}`, width);
}

function bar(progress: number, width: number, colors: Colors): string {
  const filled = Math.max(0, Math.min(width, Math.round((progress / 100) * width)));
  return colors.cyan('█'.repeat(filled)) + colors.dim('░'.repeat(width - filled));
}

function fitName(name: string, len: number): string {
  return name.length > len ? `${name.slice(0, Math.max(0, len - 1))}…` : name.padEnd(len);
}

function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
}

function positiveOr(n: number | undefined, fallback: number): number {
  return n !== undefined && Number.isFinite(n) && n > 0 ? n : fallback;
}
