import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { startFakeProvider } from './fake-provider.js';
import { tempProject } from '../apply/rig.js';
import { escapeControls, oneLine } from '../../src/core/terminal-text.js';

/**
 * Issue 13 item 13: names, ids and messages from a provider or the manifest
 * that carry newlines or escape codes must not forge a line, clear the
 * screen or set the title. NO_COLOR is set, so any ESC or CR in the output
 * came from untrusted text.
 */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function expectInert(what: string, text: string): void {
  expect(text, `${what}: raw control character`).not.toMatch(RAW_CONTROL);
  expect(text, `${what}: forged line`).not.toMatch(/^\s*videos\.yaml: ok/m);
}

describe('untrusted text in the terminal and the log', () => {
  it('a provider whose ids, statuses and messages carry newlines and escape codes cannot forge a line', async () => {
    const fake = await startFakeProvider();
    const dir = await tempProject({ 'videos.yaml': 'version: 1\noutDir: out\ndefaults: { model: sora-2, size: 720x1280, seconds: 4 }\nvideos:\n  a: { prompt: A field. }\n' });
    const url = fake.url('forge');
    const applied = await runCli(['apply', '--yes', '--base-url', url], { cwd: dir });
    expect(applied.code).toBe(1);
    expectInert('apply', applied.stdout + applied.stderr);
    expect(applied.stdout).toContain('\\n videos.yaml: ok\\x1b[2J\\x1b]0;pwned\\x07\\r');
    for (const args of [['status', '--base-url', url], ['plan'], ['prune', '--yes', '--base-url', url]]) {
      const r = await runCli(args, { cwd: dir });
      expectInert(args.join(' '), r.stdout + r.stderr);
    }
    const json = await runCli(['apply', '--yes', '--json', '--replace', 'a', '--base-url', url], { cwd: dir });
    expectInert('apply --json', json.stdout + json.stderr);
    for (const line of json.stdout.trim().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('a manifest value with C1 controls or a bidi override is quoted inertly in a diagnostic', async () => {
    const dir = await tempProject({ 'videos.yaml': 'version: 1\nvideos:\n  a: { prompt: A field., seconds: "\u009b2J\u202e8" }\n' });
    const r = await runCli(['validate'], { cwd: dir });
    expect(r.code).toBe(1);
    expectInert('validate', r.stderr);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('escapes every control but keeps our own colours', () => {
    expect(escapeControls('a\nb\x1b[31mc\u202ed')).toBe('a\\nb\\x1b[31mc\\u202ed');
    expect(oneLine('\x1b[32m✓\x1b[39m b: \x1b]0;t\x07 done\r\n')).toBe('\x1b[32m✓\x1b[39m b: \\x1b]0;t\\x07 done\\r\\n');
  });
});
