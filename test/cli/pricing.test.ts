import { describe, expect, it } from 'vitest';
import { tempProject, vidbuild } from '../apply/rig.js';

const WIDE = 'provider: { capabilities: { models: { sora-2: { sizes: [1920x1080] } } } }\n';

describe('pricing: in the manifest', () => {
  it('prices a size the shipped table lacks and overrides one it has; plan, --json and --max-cost use them', async () => {
    const unpriced = await tempProject({ 'videos.yaml': `version: 1\noutDir: out\n${WIDE}videos:\n  wide: { prompt: A field., size: 1920x1080, seconds: 4 }\n` });
    const before = await vidbuild(['plan'], unpriced);
    expect(before.stdout).toMatch(/\+ wide +create +not in videos\.lock +\$\?/);
    expect(before.stderr).toContain('give it under `pricing:` in the manifest, USD per second');
    // In the NDJSON stream too, a step's cost of 0 is not taken for a price.
    const events = (await vidbuild(['apply', '--yes', '--json', '--allow-unpriced', '--backend', 'emulator'], unpriced)).stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; plan?: { steps: unknown[] } });
    expect(events.find((e) => e.type === 'plan-ready')?.plan?.steps).toEqual([{ name: 'wide', action: 'create', reason: 'not in videos.lock', cost: 0, unpriced: true }]);

    const dir = await tempProject({
      'videos.yaml': `version: 1\noutDir: out\n${WIDE}pricing:\n  sora-2: { 1920x1080: 0.25, 1280x720: 0.2 }\nvideos:\n  wide: { prompt: A field., size: 1920x1080, seconds: 4 }\n  hd: { prompt: A hill., size: 1280x720, seconds: 8 }\n  tall: { prompt: A tower., size: 720x1280, seconds: 4 }\n`,
    });
    const r = await vidbuild(['plan'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/\+ wide +create +not in videos\.lock +\$1\.00/);
    expect(r.stdout).toMatch(/\+ hd +create +not in videos\.lock +\$1\.60/);
    // The shipped price of a size the manifest does not name stays.
    expect(r.stdout).toMatch(/\+ tall +create +not in videos\.lock +\$0\.40/);
    const json = JSON.parse((await vidbuild(['plan', '--json'], dir)).stdout) as { summary: { cost: number }; steps: { unpriced: boolean }[] };
    expect(json.summary.cost).toBe(3);
    expect(json.steps.every((s) => !s.unpriced)).toBe(true);
    const over = await vidbuild(['apply', '--yes', '--max-cost', '2', '--base-url', 'http://127.0.0.1:9/v1'], dir);
    expect(over.code).toBe(1);
    expect(`${over.stdout}${over.stderr}`).toMatch(/\$3\.00/);
  });

  it('a price size that is not WIDTHxHEIGHT, or a price below zero, is refused with its location', async () => {
    const dir = await tempProject({ 'videos.yaml': 'version: 1\npricing:\n  sora-2: { big: 1, 1280x720: -1 }\nvideos:\n  a: { prompt: A field. }\n' });
    const r = await vidbuild(['validate'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^videos\.yaml:3:\d+: /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
