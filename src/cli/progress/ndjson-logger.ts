import type { ExecEvent } from '../../execute/events.js';

/**
 * The version of the NDJSON event stream, on every line as `schemaVersion`
 * (schemas/events.schema.json describes each event). Bump it when a field is
 * added, renamed or changes meaning, so a consumer can refuse a stream it
 * was not written for instead of misreading it.
 *
 * 2: run-finished's summary has `unpriced` (jobs with no known price, not
 * in `cost`); a plan-ready step may have the action `failed` (failed before
 * with these inputs, not retried).
 * 3: a plan-ready step with no known price has `unpriced: true` (its `cost`
 * 0 is not a price).
 */
export const EVENTS_SCHEMA_VERSION = 3;

/** One NDJSON line: `type` first, then `schemaVersion`, then the event's fields. */
export function ndjsonLine<E extends { readonly type: string }>(event: E): string {
  const { type, ...fields } = event;
  return inertJson(JSON.stringify({ type, schemaVersion: EVENTS_SCHEMA_VERSION, ...fields }));
}

/**
 * JSON.stringify escapes C0 controls but leaves C1 controls (U+009B is a CSI
 * to some terminals), line separators and bidi overrides raw. Escaped as
 * `\uXXXX` the line is the same JSON, and inert when someone `cat`s it.
 */
export function inertJson(json: string): string {
  // eslint-disable-next-line no-control-regex
  return json.replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * `--json`: each event as one JSON line, as emitted (events are plain data).
 * The plan inside `plan-ready` is reduced to its steps' names, actions and
 * costs plus the summary: the full targets would repeat the manifest.
 */
export function ndjsonLogger(write: (line: string) => void): (e: ExecEvent) => void {
  return (e) => {
    if (e.type === 'plan-ready') {
      write(
        ndjsonLine({
          type: e.type,
          at: e.at,
          plan: {
            summary: e.plan.summary,
            steps: e.plan.steps.map((s) => ({ name: s.name, action: s.action, reason: s.reason, cost: s.cost, ...(s.action !== 'orphan' && s.unpriced === true ? { unpriced: true } : {}) })),
            characters: e.plan.characters.map((c) => ({ name: c.name, action: c.action, reason: c.reason })),
          },
        }),
      );
      return;
    }
    write(ndjsonLine(e));
  };
}
