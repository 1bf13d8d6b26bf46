import { describe, expect, it } from 'vitest';
import { apply, emulator, posts, readLock, tempProject, vidbuild } from './rig.js';

/**
 * A step whose model/size the price table does not know costs `$?`, never
 * $0: a budget cannot bound it, so `apply --max-cost` refuses before
 * sending anything unless the price is given (`pricing:`) or the user says
 * `--allow-unpriced`; and every total says how many steps it leaves out.
 */
/** sora-2 at 1024x1792: a provider may accept it (the emulator is told to), the shipped price table has no price for it. */
const TALL = 'provider: { capabilities: { models: { sora-2: { sizes: [1024x1792] } } } }\n';
const FIVE = `version: 1
outDir: out
${TALL}defaults: { model: sora-2, size: 1024x1792, seconds: 4 }
videos:
  a: { prompt: A field. }
  b: { prompt: A hill. }
  c: { prompt: A tower. }
  d: { prompt: A river. }
  e: { prompt: A road. }
`;

describe('unpriced steps and a budget', () => {
  it('apply --max-cost 0 refuses five unpriced targets in one line, sending nothing; --allow-unpriced runs them', async () => {
    const emu = await emulator({ extraSizes: { 'sora-2': ['1024x1792'] } });
    const dir = await tempProject({ 'videos.yaml': FIVE });

    const refused = await apply(dir, emu, ['--max-cost', '0']);
    expect(refused.code).toBe(1);
    expect(posts(emu)).toBe(0);
    const lines = refused.stderr.split('\n').filter((l) => l.includes('--max-cost'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/5 jobs have no known price \(a, b, c and 2 more; sora-2 at 1024x1792\)/);
    expect(lines[0]).toMatch(/`pricing:`/);
    expect(lines[0]).toMatch(/--allow-unpriced/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    // The plan above it does not pretend the run is free.
    expect(refused.stdout).toMatch(/Estimated cost: \$0\.00 \+ 5 unpriced/);

    const json = await apply(dir, emu, ['--max-cost', '0', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout.trim().split('\n').at(-1) ?? '')).toMatchObject({ type: 'run-refused', code: 'unpriced' });
    expect(posts(emu)).toBe(0);

    const allowed = await apply(dir, emu, ['--max-cost', '0', '--allow-unpriced']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(posts(emu)).toBe(5);
    // The run's spend is not $0 either.
    expect(allowed.stdout).toMatch(/est\. cost \$0\.00 \+ 5 unpriced;/);
    expect(Object.keys((await readLock(dir)).videos).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('a price under `pricing:` makes the budget apply again', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': FIVE.replace('defaults:', 'pricing: { sora-2: { 1024x1792: 0.1 } }\ndefaults:') });
    const over = await apply(dir, emu, ['--max-cost', '1']);
    expect(over.code).toBe(1);
    expect(over.stderr).toMatch(/estimated at \$2\.00.*above --max-cost \$1\.00/);
    expect(posts(emu)).toBe(0);
  });

  it('plan text, markdown and --json count the unpriced steps beside the total', async () => {
    const dir = await tempProject({ 'videos.yaml': FIVE.replace('  e: { prompt: A road. }\n', '  e: { prompt: A road., size: 720x1280 }\n') });
    const text = await vidbuild(['plan'], dir);
    expect(text.stdout).toMatch(/Plan: 5 to create\. Estimated cost: \$0\.40 \+ 4 unpriced \(prices of \d{4}-\d\d-\d\d\)\./);
    const md = await vidbuild(['plan', '--format', 'markdown'], dir);
    expect(md.stdout).toMatch(/estimated cost \*\*\$0\.40 \+ 4 unpriced\*\*/);
    const json = JSON.parse((await vidbuild(['plan', '--json'], dir)).stdout) as { summary: { cost: number; unpriced: number } };
    expect(json.summary).toMatchObject({ cost: 0.4, unpriced: 4 });
  });
});
