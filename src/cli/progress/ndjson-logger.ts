import type { ExecEvent } from '../../execute/events.js';

/**
 * `--json`: each event as one JSON line, as emitted (events are plain data).
 * The plan inside `plan-ready` is reduced to its steps' names, actions and
 * costs plus the summary: the full targets would repeat the manifest.
 */
export function ndjsonLogger(write: (line: string) => void): (e: ExecEvent) => void {
  return (e) => {
    if (e.type === 'plan-ready') {
      write(
        JSON.stringify({
          type: e.type,
          at: e.at,
          plan: {
            summary: e.plan.summary,
            steps: e.plan.steps.map((s) => ({ name: s.name, action: s.action, reason: s.reason, cost: s.cost })),
            characters: e.plan.characters.map((c) => ({ name: c.name, action: c.action, reason: c.reason })),
          },
        }),
      );
      return;
    }
    write(JSON.stringify(e));
  };
}
