import type { ExecEvent } from '../../execute/events.js';
import type { Colors } from '../colors.js';
import { describeEvent, formatDuration } from './describe-event.js';

/**
 * The live view for a person at a terminal: permanent lines (submitted,
 * completed, failed…) scroll above a live block with one line per running
 * job — name, status, a progress bar, elapsed time — redrawn in place with
 * ANSI cursor moves (no dependency). Redraws are throttled.
 */
interface Running {
  readonly name: string;
  status: string;
  progress: number;
  readonly startedAt: number;
}

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

export class TtyView {
  private readonly running = new Map<string, Running>();
  private drawnLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly colors: Colors,
  ) {
    this.timer = setInterval(() => {
      // Elapsed times move even when no event arrives.
      if (this.running.size > 0 || this.dirty) this.redraw();
    }, 500);
    this.timer.unref();
  }

  readonly onEvent = (e: ExecEvent): void => {
    switch (e.type) {
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
      case 'job-failed':
      case 'job-skipped':
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
  };

  /** A permanent line above the live block. */
  print(line: string): void {
    this.clear();
    this.out.write(`${line}\n`);
    this.draw();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
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
    const width = Math.max(40, this.out.columns ?? 80);
    const rows = [...this.running.values()];
    const shown = rows.slice(0, Math.max(1, (this.out.rows ?? 24) - 4));
    const nameWidth = Math.min(24, Math.max(...shown.map((r) => r.name.length), 4));
    const lines = shown.map((r) => {
      const filled = Math.round((r.progress / 100) * BAR_WIDTH);
      const bar = this.colors.cyan('█'.repeat(filled)) + this.colors.dim('░'.repeat(BAR_WIDTH - filled));
      const name = r.name.length > nameWidth ? `${r.name.slice(0, nameWidth - 1)}…` : r.name.padEnd(nameWidth);
      const text = `  ${name} ${r.status.replace('_', ' ').padEnd(11)} ${bar} ${String(Math.round(r.progress)).padStart(3)}% ${formatDuration(Date.now() - r.startedAt)}`;
      return text.length > width + 40 ? text.slice(0, width + 40) : text;
    });
    if (rows.length > shown.length) lines.push(this.colors.dim(`  … and ${rows.length - shown.length} more`));
    if (lines.length === 0) return;
    this.out.write(`${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
  }
}
