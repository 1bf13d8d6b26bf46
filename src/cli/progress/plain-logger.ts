import type { ExecEvent } from '../../execute/events.js';
import { isTerminalStatus } from '../../lock/lockfile.js';
import type { Colors } from '../colors.js';
import { describeEvent } from './describe-event.js';

/**
 * For CI logs and pipes: one line per event, nothing redrawn. Progress ticks
 * are reduced to status changes so a long poll does not flood the log.
 */
export function plainLogger(write: (line: string) => void, colors: Colors): (e: ExecEvent) => void {
  const lastStatus = new Map<string, string>();
  return (e) => {
    if (e.type === 'job-progress') {
      // The end of a job has its own line (completed, or failed with its
      // error): "b: failed (100%)" just before it only repeated it, oddly.
      if (isTerminalStatus(e.status) || lastStatus.get(e.name) === e.status) return;
      lastStatus.set(e.name, e.status);
      write(`  ${e.name}: ${e.status.replace('_', ' ')} (${Math.round(e.progress)}%)`);
      return;
    }
    const line = describeEvent(e, colors);
    if (line !== undefined) write(line);
  };
}
