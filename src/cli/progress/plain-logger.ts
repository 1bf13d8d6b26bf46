import type { ExecEvent } from '../../execute/events.js';
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
      if (lastStatus.get(e.name) === e.status) return;
      lastStatus.set(e.name, e.status);
      write(`  ${e.name}: ${e.status.replace('_', ' ')} (${Math.round(e.progress)}%)`);
      return;
    }
    const line = describeEvent(e, colors);
    if (line !== undefined) write(line);
  };
}
