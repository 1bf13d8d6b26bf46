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

describe('two manifests in one folder sharing outputs or jobs', () => {
  const hero = (outDir: string): string => `version: 1\n${outDir === '' ? '' : `outDir: ${outDir}\n`}videos:\n  hero: { prompt: "The same intro." }\n`;

  it('an apply that would overwrite the other manifest\'s output is refused before anything is written', async () => {
    const emu = await emulator();
    // Both default to outDir `videos`.
    const dir = await tempProject({ 'videos.yaml': hero(''), 'ads.yaml': hero('') });
    const base = ['--base-url', emu.baseURL, '--yes'];
    expect((await vidbuild(['apply', ...base], dir)).code).toBe(0);
    const bytes = await fsp.readFile(path.join(dir, 'videos', 'hero.mp4'));

    // The review says so first (a warning: the plan itself is fine to read).
    const planned = await vidbuild(['plan', '-f', 'ads.yaml'], dir);
    expect(planned.code).toBe(0);
    expect(planned.stderr).toBe(
      "warning: ads.yaml: hero would write videos/hero.mp4, which is hero's output in videos.lock (videos.yaml); give one of the two manifests another outDir; apply refuses this\n",
    );

    const r = await vidbuild(['apply', '-f', 'ads.yaml', ...base], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "ads.yaml: hero would write videos/hero.mp4, which is hero's output in videos.lock (videos.yaml); give one of the two manifests another outDir; nothing was done\n",
    );
    expect(existsSync(path.join(dir, 'ads.lock'))).toBe(false);
    expect(await fsp.readFile(path.join(dir, 'videos', 'hero.mp4'))).toEqual(bytes);
    const json = await vidbuild(['apply', '-f', 'ads.yaml', '--json', ...base], dir);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ type: 'run-refused', code: 'output-clash' });
    // A manifest whose lock is gone (renamed away) or a `.lock` of another tool is not a sibling.
    await fsp.writeFile(path.join(dir, 'poetry.lock'), '# not ours\n');
    expect((await vidbuild(['plan', '-f', 'ads.yaml'], dir)).code).toBe(0);
  });

  it('prune keeps a job (and file) the other manifest restored from the shared cache', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': hero(''), 'ads.yaml': hero('ads') });
    const base = ['--base-url', emu.baseURL, '--yes'];
    expect((await vidbuild(['apply', ...base], dir)).code).toBe(0);
    // Same inputs: ads.yaml's hero is restored from the cache as the very same job.
    const restored = await vidbuild(['apply', '-f', 'ads.yaml', ...base], dir);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/hero: ads\/hero\.mp4 \(.*, from cache\)/);
    const jobId = /generated before as job (video_\w+)/.exec(restored.stdout)?.[1];
    expect(jobId).toBeDefined();

    await fsp.writeFile(path.join(dir, 'ads.yaml'), 'version: 1\noutDir: ads\nvideos:\n  other: { prompt: "Something else." }\n');
    const prune = await vidbuild(['prune', '-f', 'ads.yaml', ...base], dir);
    expect(prune.code).toBe(0);
    expect(prune.stdout).toContain(`- hero (job ${jobId} kept: hero in videos.lock uses it; deletes ads/hero.mp4)`);
    expect(emu.stats().requests['DELETE /videos/{id}']).toBeUndefined();
    expect(existsSync(path.join(dir, 'ads', 'hero.mp4'))).toBe(false);
    expect(existsSync(path.join(dir, 'videos', 'hero.mp4'))).toBe(true);
    // videos.yaml is untouched: its remote job still serves remixes.
    expect((await vidbuild(['plan', '--detailed-exitcode'], dir)).code).toBe(0);
    const res = await fetch(`${emu.baseURL}/videos/${jobId ?? ''}`, { headers: { authorization: 'Bearer test' } });
    expect(res.status).toBe(200);
  });
});
