import { readFileSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { emulator, tempProject, vidbuild } from '../apply/rig.js';

/**
 * examples/github-actions/videos.yml: every vidbuild command it runs (plan
 * comment, apply within a budget, pull) works as written, in order, on a
 * project, against the emulator in place of the paid API.
 */
const workflow = readFileSync(path.resolve('examples/github-actions/videos.yml'), 'utf8');

function vidbuildCommands(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    const m = /npx vidbuild ([^>|&;#\n]+)/.exec(line.replace(/^\s*#.*$/, ''));
    if (m?.[1] !== undefined) out.push(m[1].trim().split(/\s+/));
  }
  return out;
}

describe('the GitHub Actions example', () => {
  it('is valid YAML: plan on pull requests, apply on push, a site job that pulls', () => {
    const doc = parse(workflow) as { jobs: Record<string, unknown> };
    expect(Object.keys(doc.jobs)).toEqual(['plan', 'apply', 'site']);
  });

  it('runs its vidbuild commands as written: plan comment (exit 2: changes), apply within budget, then pull restores for $0', async () => {
    const commands = vidbuildCommands(workflow);
    expect(commands.map((c) => c[0])).toEqual(['plan', 'apply', 'pull']);
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': 'version: 1\noutDir: renders\nvideos:\n  intro: { prompt: A lighthouse at dawn. }\n' });
    const [plan, applyCmd, pull] = commands as [string[], string[], string[]];
    const planned = await vidbuild(plan, dir);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toMatch(/^### vidbuild plan/);
    const applied = await vidbuild([...applyCmd, '--base-url', emu.baseURL], dir);
    expect(applied.code).toBe(0);
    // The site job's checkout: the committed lock and the restored cache, no renders.
    await rm(path.join(dir, 'renders'), { recursive: true });
    const before = emu.stats();
    const pulled = await vidbuild([...pull, '--base-url', emu.baseURL], dir);
    expect(pulled.code).toBe(0);
    expect(emu.stats()).toEqual(before);
    await expect(stat(path.join(dir, 'renders', 'intro.mp4'))).resolves.toBeTruthy();
  });
});
