import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { loadManifest } from '../../src/manifest/load-manifest.js';

/**
 * Every `*.yaml` under test/fixtures/manifests/invalid/ is a manifest that
 * must be refused; `expected.json` holds, per fixture, every message it must
 * produce, in order, as `line:col: message` (the file name is checked once).
 * The fixtures' project directory is that folder (refs/ holds a few files).
 */
const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/manifests/invalid');
const expected: unknown = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8'));
const table = new Map<string, readonly string[]>();
if (typeof expected === 'object' && expected !== null) {
  for (const [file, lines] of Object.entries(expected)) {
    const list: unknown = lines;
    if (Array.isArray(list)) table.set(file, list.map(String));
  }
}
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
const cases = fixtures.map((name) => ({ name, messages: table.get(name) ?? [] }));

describe('invalid manifests', () => {
  it('has an expectation for every fixture and a fixture for every expectation', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(45);
    expect([...table.keys()].sort()).toEqual(fixtures);
    for (const c of cases) expect(c.messages.length, c.name).toBeGreaterThan(0);
  });

  it.each(cases)('$name', async ({ name, messages }) => {
    const loaded = await loadManifest(name, { cwd: dir });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    const lines = loaded.error.map(formatDiagnostic);
    for (const line of lines) {
      expect(line.startsWith(`${name}:`), line).toBe(true);
      expect(line).not.toContain('\n');
    }
    expect(lines.map((l) => l.slice(name.length + 1))).toEqual(messages);
  });
});
