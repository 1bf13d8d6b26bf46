import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { text } from '../../src/plan/render-plan-markdown.js';
import { apply, emulator, tempProject, vidbuild } from '../apply/rig.js';

const TWO = `version: 1
defaults: { model: sora-2, size: 720x1280, seconds: 4 }
outDir: out
videos:
  intro: { prompt: A lighthouse at dawn. }
  outro: { prompt: A harbour at dusk. }
`;

describe('vidbuild plan --format markdown', () => {
  it('is a comment a PR bot can post: heading with the counts and cost, one row per change, unchanged folded away', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': TWO });
    const fresh = await vidbuild(['plan', '--format', 'markdown'], dir);
    expect(fresh.code).toBe(0);
    expect(fresh.stderr).toBe('');
    expect(fresh.stdout).toBe(
      [
        '### vidbuild plan: `videos.yaml`',
        '',
        '**2 to create**; estimated cost **$0.80** (prices of 2025-10-06).',
        '',
        '| | target | action | reason | cost |',
        '| --- | --- | --- | --- | ---: |',
        '| `+` | `intro` | create | not in videos.lock | $0.40 |',
        '| `+` | `outro` | create | not in videos.lock | $0.40 |',
        '',
      ].join('\n'),
    );

    expect((await apply(dir, emu)).code).toBe(0);
    const none = await vidbuild(['plan', '--format', 'markdown', '--detailed-exitcode'], dir);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('### vidbuild plan: `videos.yaml`\n\n**No changes.** Your videos match the manifest.\n');

    await fsp.writeFile(path.join(dir, 'videos.yaml'), TWO.replace('at dusk.', 'at night.'));
    const one = await vidbuild(['plan', '--format', 'markdown', '--detailed-exitcode'], dir);
    expect(one.code).toBe(2);
    expect(one.stdout).toContain('**1 to replace**; estimated cost **$0.40**');
    expect(one.stdout).toContain('| `-/+` | `outro` | replace | prompt changed | $0.40 |');
    expect(one.stdout).toContain('<details><summary>1 unchanged</summary>\n\n`intro`\n\n</details>');
  });

  it('--json and --format markdown together are refused in one line', async () => {
    const dir = await tempProject({ 'videos.yaml': TWO });
    const r = await vidbuild(['plan', '--json', '--format', 'markdown'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('--json and --format markdown ask for two formats; give one\n');
    expect(r.stdout).toBe('');
  });

  it('a reason or warning cannot add a row, a link, an image or HTML to the comment', () => {
    const hostile = 'a | b\n| `+` | forged |\n![x](http://e/x.png) [y](http://e) <img src=x> **bold** _i_ # h';
    const cell = text(hostile);
    expect(cell).not.toMatch(/\n/);
    expect(cell).not.toMatch(/(^|[^\\])\|/);
    expect(cell).not.toMatch(/(^|[^\\])[[\]()!`*_#]/);
    expect(cell).not.toMatch(/[<>]/);
    expect(text('\u001b[31mred\u0007')).toBe('\\\\u001b\\[31mred\\\\u0007');
  });

  it('a changed prompt shows its word diff under the row (text) and old, new and diff in --json', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': TWO });
    expect((await apply(dir, emu)).code).toBe(0);
    await fsp.writeFile(path.join(dir, 'videos.yaml'), TWO.replace('A harbour at dusk.', 'A quiet harbour at night.'));
    const text = await vidbuild(['plan'], dir);
    expect(text.stdout).toContain('  -/+ outro  replace  prompt changed  $0.40\n             prompt: A {+quiet+} harbour at [-dusk.-]{+night.+}\n');
    const json = JSON.parse((await vidbuild(['plan', '--json'], dir)).stdout) as { steps: { name: string; promptChange: unknown }[] };
    expect(json.steps.find((st) => st.name === 'intro')?.promptChange).toBeNull();
    expect(json.steps.find((st) => st.name === 'outro')?.promptChange).toEqual({
      from: 'A harbour at dusk.',
      to: 'A quiet harbour at night.',
      diff: [
        { op: 'same', text: 'A ' },
        { op: 'added', text: 'quiet ' },
        { op: 'same', text: 'harbour at ' },
        { op: 'removed', text: 'dusk.' },
        { op: 'added', text: 'night.' },
      ],
    });
  });
});

