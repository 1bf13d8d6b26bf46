import type { ExecEvent } from '../../execute/events.js';
import { isTerminalStatus } from '../../lock/lockfile.js';
import type { Colors } from '../colors.js';
import { describeEvent, formatDuration } from './describe-event.js';
import { FailureRecap } from './failure-recap.js';
import { oneLine } from '../../core/terminal-text.js';

export interface PlainLoggerOptions {
  /**
   * A job that stays in one status gets a line again after this long, so a
   * multi-minute generation is not a silent log between "in progress (4%)"
   * and "completed" (CI services kill jobs that print nothing for 10 min, and
   * a person reading the log cannot tell a slow job from a hung run). 0: off.
   */
  readonly heartbeatMs?: number;
}

/** Once a minute: a 12-minute job is a dozen lines, not hundreds. */
export const DEFAULT_HEARTBEAT_MS = 60_000;

/**
 * For CI logs and pipes: one line per event, nothing redrawn. Progress ticks
 * are reduced to status changes, plus a heartbeat per running job (measured
 * on the job's own elapsed time, so the log is the same whatever the poll
 * rate), so a long poll does not flood the log.
 */
export function plainLogger(writeRaw: (line: string) => void, colors: Colors, o: PlainLoggerOptions = {}): (e: ExecEvent) => void {
  // Names, ids and messages inside a line come from the manifest and the provider: one call, one line.
  const write = (line: string): void => writeRaw(oneLine(line));
  const heartbeatMs = o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const last = new Map<string, { readonly status: string; readonly elapsedMs: number }>();
  const recap = new FailureRecap();
  return (e) => {
    if (e.type === 'job-progress') {
      // The end of a job has its own line (completed, or failed with its
      // error): "b: failed (100%)" just before it only repeated it, oddly.
      if (isTerminalStatus(e.status)) return;
      const before = last.get(e.name);
      const status = e.status.replace('_', ' ');
      if (before?.status !== e.status) {
        write(`  ${e.name}: ${status} (${Math.round(e.progress)}%)`);
      } else if (heartbeatMs > 0 && e.elapsedMs - before.elapsedMs >= heartbeatMs) {
        write(`  ${e.name}: still ${status} (${Math.round(e.progress)}%) after ${formatDuration(e.elapsedMs)}`);
      } else {
        return;
      }
      last.set(e.name, { status: e.status, elapsedMs: e.elapsedMs });
      return;
    }
    recap.observe(e);
    const line = describeEvent(e, colors);
    if (line !== undefined) write(line);
    if (e.type === 'run-finished') for (const l of recap.lines(colors)) write(l);
  };
}

/**
 * `VIDBUILD_LOG_HEARTBEAT_SECONDS` (0: off) for the plain log's heartbeat;
 * anything that is not a number ≥ 0 keeps the default.
 */
export function heartbeatFromEnv(env: NodeJS.ProcessEnv): PlainLoggerOptions {
  const raw = env['VIDBUILD_LOG_HEARTBEAT_SECONDS'];
  const n = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  return { heartbeatMs: Number.isFinite(n) && n >= 0 ? n * 1000 : DEFAULT_HEARTBEAT_MS };
}
