import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emulator, posts, tempProject, vidbuild } from './rig.js';

/**
 * Two manifests in one folder (videos.yaml and ads.yaml) each keep their own
 * lock, named after the manifest: one's apply or prune never touches the
 * other's jobs, even with a target of the same name.
 */
const manifest = (prompt: string, outDir: string): string =>
  `version: 1\ndefaults: { model: sora-2, size: 1280x720, seconds: 4 }\noutDir: ${outDir}\nvideos:\n  hero: { prompt: "${prompt}" }\n`;

describe('two manifests in one folder', () => {
  it('each has its own <stem>.lock; applying one never replaces or prunes the other', async () => {
    const emu = await emulator();
    const dir = await tempProject({
      'videos.yaml': manifest('A lighthouse at dawn.', 'site'),
      'ads.yml': manifest('A red kite over a beach.', 'ads'),
    });
    const base = ['--base-url', emu.baseURL, '--yes'];
    // The plan names the lock the jobs will go to, not a videos.lock that does not apply.
    const planned = await vidbuild(['plan', '-f', 'ads.yml'], dir);
    expect(planned.stdout).toMatch(/hero\s+create\s+not in ads\.lock/);
    expect(planned.stdout).not.toContain('videos.lock');
    expect((await vidbuild(['apply', ...base], dir)).code).toBe(0);
    expect((await vidbuild(['apply', '-f', 'ads.yml', ...base], dir)).code).toBe(0);
    expect(existsSync(path.join(dir, 'videos.lock'))).toBe(true);
    expect(existsSync(path.join(dir, 'ads.lock'))).toBe(true);
    const siteLock = await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8');
    expect(siteLock).toContain('A lighthouse at dawn.');
    expect(siteLock).not.toContain('A red kite');
    expect(await fsp.readFile(path.join(dir, 'ads.lock'), 'utf8')).toContain('A red kite over a beach.');

    // Alternating applies are no-ops: neither overwrote the other's `hero`.
    const before = posts(emu);
    const again = await vidbuild(['plan', '--detailed-exitcode'], dir);
    expect(again.code).toBe(0);
    expect((await vidbuild(['apply', '-f', 'ads.yml', ...base], dir)).code).toBe(0);
    expect((await vidbuild(['apply', ...base], dir)).code).toBe(0);
    expect(posts(emu)).toBe(before);

    // Pruning one manifest finds nothing of the other's to delete.
    const prune = await vidbuild(['prune', '-f', 'ads.yml', ...base], dir);
    expect(prune.code).toBe(0);
    expect(prune.stdout).toMatch(/Nothing to prune/);
    expect(existsSync(path.join(dir, 'site', 'hero.mp4'))).toBe(true);
    expect(await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8')).toBe(siteLock);
  });
});
