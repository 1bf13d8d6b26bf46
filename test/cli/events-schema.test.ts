import { promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ExecEventType } from '../../src/execute/events.js';
import type { WatchEvent } from '../../src/watch/watch-events.js';
import { EVENTS_SCHEMA_VERSION } from '../../src/cli/progress/ndjson-logger.js';
import { apply, emulator, tempProject } from '../apply/rig.js';
import { startWatch } from '../watch/watch-process.js';

/**
 * The NDJSON stream of `apply --json`, `pull --json` and `watch --json`
 * against schemas/events.schema.json: every line of real runs validates,
 * every event type the code can emit is in the schema (the two lists below
 * are checked by the compiler against the event unions), and the schema
 * lists nothing the code does not emit.
 */
const schema: unknown = JSON.parse(readFileSync(path.resolve('schemas/events.schema.json'), 'utf8'));
// Formats (date-time) are annotations for readers and editors; `at` is checked below.
const validate = new Ajv2020({ strict: true, allErrors: true, validateFormats: false }).compile(schema as object);

const EXEC_TYPES: Record<ExecEventType, true> = {
  'plan-ready': true, 'character-created': true, 'character-failed': true, 'job-intent': true, 'job-submitted': true,
  'job-progress': true, 'job-completed': true, 'job-failed': true, 'job-skipped': true, 'job-reconciled': true,
  'remote-claim': true,
  'asset-restored': true, 'target-done': true, 'rate-limited': true, warning: true, interrupted: true, 'run-finished': true,
};
const WATCH_TYPES: Record<WatchEvent['type'], true> = {
  'cycle-start': true, 'manifest-invalid': true, replan: true, exec: true, superseded: true, 'obsolete-job': true, warning: true, idle: true,
};

function schemaTypes(): string[] {
  const oneOf = (schema as { oneOf: { properties: { type: { const: string } } }[] }).oneOf;
  return oneOf.map((s) => s.properties.type.const).sort();
}

const seen = new Set<string>();
function check(stdout: string): void {
  const lines = stdout.split('\n').filter((l) => l !== '');
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    const event = JSON.parse(line) as { type: string; schemaVersion: number; at?: string };
    if (!validate(event)) throw new Error(`${line}\ndoes not match schemas/events.schema.json: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
    expect(Object.keys(event).slice(0, 2)).toEqual(['type', 'schemaVersion']);
    expect(event.schemaVersion).toBe(EVENTS_SCHEMA_VERSION);
    if (event.at !== undefined) expect(Number.isNaN(Date.parse(event.at))).toBe(false);
    seen.add(event.type);
  }
}

describe('NDJSON events (schemas/events.schema.json)', () => {
  it('the schema names exactly the event types the code emits', () => {
    const expected = [...Object.keys(EXEC_TYPES), ...Object.keys(WATCH_TYPES).filter((t) => t !== 'exec').map((t) => `watch-${t}`)].sort();
    expect(schemaTypes()).toEqual(expected);
  });

  it('every line of apply, pull and watch runs validates, with its schemaVersion', async () => {
    const emu = await emulator();
    const dir = await tempProject({
      'videos.yaml': `version: 1
defaults: { model: sora-2, size: 720x1280, seconds: 4 }
outDir: out
videos:
  base: { prompt: A lighthouse at dawn. }
  night: { remix: base, prompt: The same lighthouse at night. }
  bad: { prompt: "A storm [[fail:moderation_blocked]]" }
  kid: { remix: bad, prompt: After the storm. }
`,
    });
    check((await apply(dir, emu, ['--json'])).stdout);
    await fsp.rm(path.join(dir, 'out'), { recursive: true });
    check((await apply(dir, emu, ['--json', '--target', 'night'])).stdout);
    await fsp.rm(path.join(dir, 'out'), { recursive: true });
    check((await apply(dir, emu, ['--json', '--frozen', '--target', 'night'])).stdout);
    for (const t of ['plan-ready', 'job-intent', 'job-submitted', 'job-progress', 'job-completed', 'job-failed', 'job-skipped', 'asset-restored', 'target-done', 'run-finished']) {
      expect(seen, t).toContain(t);
    }

    const watched = await tempProject({ 'videos.yaml': 'version: 1\noutDir: out\nvideos:\n  a: { prompt: A field. }\n' });
    const w = startWatch(watched, { args: ['--json'] });
    await w.waitFor(/"type":"watch-idle"/);
    const from = w.lines.length;
    await fsp.writeFile(path.join(watched, 'videos.yaml'), 'version: 1\noutDir: out\nvideos:\n  a: { prompt: A field at noon. }\n  b: [\n');
    await w.waitFor(/"type":"watch-manifest-invalid"/, from);
    await fsp.writeFile(path.join(watched, 'videos.yaml'), 'version: 1\noutDir: out\nvideos:\n  a: { prompt: A field at noon. }\n');
    const idle = await w.waitFor(/"type":"watch-idle"/, from);
    expect(await w.quit()).toBe(0);
    check(w.slice(0, idle + 1).filter((l) => !l.startsWith('ERR ')).join('\n'));
    for (const t of ['watch-cycle-start', 'watch-replan', 'watch-manifest-invalid', 'watch-idle']) expect(seen, t).toContain(t);
  });
});
