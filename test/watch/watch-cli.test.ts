import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IDLE, repoRoot, startWatch, tempProject, twoClipManifest } from './watch-process.js';

/**
 * `vidbuild watch` end to end: the built CLI as a child process on the
 * in-process emulator. Every wait is on an output line.
 */
async function lockedPrompt(dir: string, name: string): Promise<string | undefined> {
  const lock: unknown = JSON.parse(await fs.readFile(path.join(dir, 'videos.lock'), 'utf8'));
  const videos = typeof lock === 'object' && lock !== null ? Reflect.get(lock, 'videos') : undefined;
  const entry = typeof videos === 'object' && videos !== null ? Reflect.get(videos, name) : undefined;
  const job = typeof entry === 'object' && entry !== null ? Reflect.get(entry, 'job') : undefined;
  const request = typeof job === 'object' && job !== null ? Reflect.get(job, 'request') : undefined;
  const prompt = typeof request === 'object' && request !== null ? Reflect.get(request, 'prompt') : undefined;
  return typeof prompt === 'string' ? prompt : undefined;
}

async function cachedPrompts(dir: string): Promise<string[]> {
  const indexDir = path.join(dir, '.vidbuild', 'cache', 'index');
  const out: string[] = [];
  for (const f of await fs.readdir(indexDir)) {
    const entry: unknown = JSON.parse(await fs.readFile(path.join(indexDir, f), 'utf8'));
    const prompt = typeof entry === 'object' && entry !== null ? Reflect.get(entry, 'prompt') : undefined;
    const assets = typeof entry === 'object' && entry !== null ? Reflect.get(entry, 'assets') : undefined;
    const hasVideo = typeof assets === 'object' && assets !== null && Reflect.get(assets, 'video') !== undefined;
    if (typeof prompt === 'string' && hasVideo) out.push(prompt);
  }
  return out.sort();
}

async function cachedVariants(dir: string, prompt: string): Promise<string[]> {
  const indexDir = path.join(dir, '.vidbuild', 'cache', 'index');
  for (const f of await fs.readdir(indexDir)) {
    const entry: unknown = JSON.parse(await fs.readFile(path.join(indexDir, f), 'utf8'));
    if (typeof entry !== 'object' || entry === null || Reflect.get(entry, 'prompt') !== prompt) continue;
    const assets: unknown = Reflect.get(entry, 'assets');
    return typeof assets === 'object' && assets !== null ? Object.keys(assets).sort() : [];
  }
  return [];
}

describe('vidbuild watch', () => {
  it('re-runs only the target whose prompt changed; an invalid edit keeps the session alive', async () => {
    const dir = await tempProject({ 'videos.yaml': twoClipManifest('A red kite over a beach.', 'A blue boat at anchor.') });
    const w = startWatch(dir);
    let at = await w.waitFor(IDLE);
    expect(w.slice(0, at).join('\n')).toMatch(/alpha: created/);
    expect(w.slice(0, at).join('\n')).toMatch(/beta: created/);

    // 1. Edit one prompt: only that target re-runs.
    await fs.writeFile(path.join(dir, 'videos.yaml'), twoClipManifest('A green kite over a beach.', 'A blue boat at anchor.'));
    const changed = await w.waitFor(/videos\.yaml changed/, at + 1);
    at = await w.waitFor(IDLE, changed);
    const cycle = w.slice(changed, at).join('\n');
    expect(cycle).toMatch(/alpha: replace \(prompt changed\)/);
    expect(cycle).toMatch(/alpha: created/);
    expect(cycle).not.toMatch(/beta/);
    // The emulator bills nothing: costs read as estimates, never as money spent.
    expect(cycle).toMatch(/re-plan: 1 to run, est\. \$0\.40 at API prices, free on the emulator/);
    expect(await lockedPrompt(dir, 'alpha')).toBe('A green kite over a beach.');

    // 2. An invalid edit: one-line file:line:col error, nothing runs, the lock stays.
    const lockBefore = await fs.readFile(path.join(dir, 'videos.lock'), 'utf8');
    await fs.writeFile(
      path.join(dir, 'videos.yaml'),
      twoClipManifest('A green kite over a beach.', 'A blue boat at anchor.').replace('seconds: 4 }', 'seconds: 5 }'),
    );
    const bad = await w.waitFor(/^ERR videos\.yaml:\d+:\d+: /, at + 1);
    at = await w.waitFor(IDLE, bad);
    expect(w.slice(bad, at).join('\n')).not.toMatch(/created|submitted/);
    expect(await fs.readFile(path.join(dir, 'videos.lock'), 'utf8')).toBe(lockBefore);
    expect(w.child.exitCode).toBeNull();

    // 3. The next valid edit applies.
    await fs.writeFile(path.join(dir, 'videos.yaml'), twoClipManifest('A green kite over a beach.', 'A yellow boat at anchor.'));
    const fixed = await w.waitFor(/videos\.yaml changed/, at + 1);
    at = await w.waitFor(IDLE, fixed);
    const fixedCycle = w.slice(fixed, at).join('\n');
    expect(fixedCycle).toMatch(/beta: created/);
    expect(fixedCycle).not.toMatch(/alpha/);

    expect(await w.quit()).toBe(0);
  });

  it('a job made obsolete mid-run finishes into the cache, and reverting restores it for free', async () => {
    const first = 'A lighthouse at dawn.';
    const second = 'A lighthouse at dusk.';
    const dir = await tempProject({ 'videos.yaml': twoClipManifest(first, 'A quiet harbour.') });
    // Jobs long enough to edit while one is in flight.
    const w = startWatch(dir, { jobSeconds: 2 });
    const submitted = await w.waitFor(/alpha: submitted generate job/);
    await fs.writeFile(path.join(dir, 'videos.yaml'), twoClipManifest(second, 'A quiet harbour.'));

    // The obsolete job may land in the cache before or after the new job's cycle ends.
    const cached = await w.waitFor(/alpha: obsolete job video_\w+ saved in the cache/, submitted);
    // The new prompt's job is what the lock holds; the obsolete one is in the cache.
    const done = await w.waitFor(/alpha: created/, submitted);
    let at = Math.max(await w.waitFor(IDLE, done), cached);
    expect(await lockedPrompt(dir, 'alpha')).toBe(second);
    expect(await cachedPrompts(dir)).toContain(first);
    // Every variant is kept, so a revert restores whatever assets the target lists then.
    expect(await cachedVariants(dir, first)).toEqual(['spritesheet', 'thumbnail', 'video']);

    // Revert: restored from the cache, no new job.
    await fs.writeFile(path.join(dir, 'videos.yaml'), twoClipManifest(first, 'A quiet harbour.'));
    const reverted = await w.waitFor(/videos\.yaml changed/, at + 1);
    at = await w.waitFor(IDLE, reverted);
    const cycle = w.slice(reverted, at).join('\n');
    expect(cycle).not.toMatch(/submitted/);
    expect(cycle).toMatch(/alpha: .*from cache|alpha: fetched/);
    expect(await lockedPrompt(dir, 'alpha')).toBe(first);

    expect(await w.quit()).toBe(0);
  });

  it('does not resubmit a target that failed with the same inputs until asked (r)', async () => {
    const failing = 'A storm at sea. [[fail:moderation_blocked]]';
    const dir = await tempProject({ 'videos.yaml': twoClipManifest(failing, 'A calm lake.') });
    const w = startWatch(dir);
    let at = await w.waitFor(IDLE);
    expect(w.slice(0, at).join('\n')).toMatch(/alpha: failed .*moderation_blocked/);
    expect(w.slice(0, at).join('\n')).toMatch(/beta: created/);

    // Another edit: the failed target is held, not paid for again.
    await fs.writeFile(path.join(dir, 'videos.yaml'), twoClipManifest(failing, 'A calm lake at noon.'));
    const changed = await w.waitFor(/videos\.yaml changed/, at + 1);
    at = await w.waitFor(IDLE, changed);
    const cycle = w.slice(changed, at).join('\n');
    expect(cycle).toMatch(/alpha: held: failed with these inputs/);
    expect(cycle).toMatch(/beta: created/);
    expect(cycle).not.toMatch(/alpha: submitted/);

    // `r` resubmits it (and the emulator fails it again).
    w.child.stdin.write('r\n');
    const retry = await w.waitFor(/retrying failed targets/, at + 1);
    at = await w.waitFor(IDLE, retry);
    const retried = w.slice(retry, at).join('\n');
    expect(retried).toMatch(/alpha: submitted/);
    expect(retried).not.toMatch(/beta/);

    expect(await w.quit()).toBe(0);
  });

  it('follows the manifest: a newly referenced image is watched, and an atomic save of it re-runs its target', async () => {
    const png = await fs.readFile(path.join(repoRoot, 'examples', 'quickstart', 'refs', 'lighthouse.png'));
    const manifest = (ref: boolean) =>
      [
        'version: 1',
        'defaults: { model: sora-2, size: 720x1280, seconds: 4 }',
        'outDir: videos',
        'videos:',
        '  alpha:',
        '    prompt: A lighthouse.',
        ...(ref ? ['    input_reference: refs/light.png'] : []),
        '  beta: { prompt: A harbour. }',
        '',
      ].join('\n');
    const dir = await tempProject({ 'videos.yaml': manifest(false), 'refs/light.png': png });
    const w = startWatch(dir);
    let at = await w.waitFor(IDLE);
    expect(w.lines[at]).toMatch(/watching 1 file/);

    await fs.writeFile(path.join(dir, 'videos.yaml'), manifest(true));
    at = await w.waitFor(/watching 2 file/, at + 1);
    expect(w.slice(0, at).join('\n')).toMatch(/alpha: replace \(input_reference/);

    // An editor's atomic save: write a temp file, rename it over the original.
    await fs.writeFile(path.join(dir, 'refs', '.light.png.tmp'), Buffer.concat([png, Buffer.from('edited')]));
    await fs.rename(path.join(dir, 'refs', '.light.png.tmp'), path.join(dir, 'refs', 'light.png'));
    const changed = await w.waitFor(/refs\/light\.png changed/, at + 1);
    at = await w.waitFor(IDLE, changed);
    const cycle = w.slice(changed, at).join('\n');
    expect(cycle).toMatch(/alpha: replace/);
    expect(cycle).toMatch(/alpha: created/);
    expect(cycle).not.toMatch(/beta/);

    expect(await w.quit()).toBe(0);
  });

  it('started on an invalid manifest: shows the error, stays alive, and applies at the first valid save', async () => {
    const png = await fs.readFile(path.join(repoRoot, 'examples', 'quickstart', 'refs', 'lighthouse.png'));
    const half = ['version: 1', 'defaults: { model: sora-2, size: 720x1280, seconds: 4 }', 'outDir: videos', 'videos:', '  alpha:', '    prompt: [', ''].join('\n');
    const dir = await tempProject({ 'videos.yaml': half });
    const w = startWatch(dir);
    const bad = await w.waitFor(/^ERR videos\.yaml:\d+:\d+: invalid YAML/);
    let at = await w.waitFor(/waiting for a valid manifest/, bad);
    expect(w.child.exitCode).toBeNull();

    // Still not valid: it names an image in a directory that does not exist yet.
    const withRef = [half.replace('    prompt: [', '    prompt: A lighthouse.'), '    input_reference: shots/light.png', ''].join('\n');
    await fs.writeFile(path.join(dir, 'videos.yaml'), withRef);
    const missing = await w.waitFor(/^ERR videos\.yaml:\d+:\d+: input_reference: file not found: shots\/light\.png/, at + 1);
    at = await w.waitFor(/waiting for a valid manifest/, missing);
    expect(w.slice(0, at).join('\n')).not.toMatch(/submitted|created/);

    // Exporting the image is the valid "save": the first apply runs.
    await fs.mkdir(path.join(dir, 'shots'));
    await fs.writeFile(path.join(dir, 'shots', 'light.png'), png);
    const created = await w.waitFor(/alpha: created/, at + 1);
    at = await w.waitFor(IDLE, created);
    expect(await lockedPrompt(dir, 'alpha')).toBe('A lighthouse.');
    expect(await w.quit()).toBe(0);
  });

  it('q before the manifest was ever valid quits with 0 and leaves nothing behind', async () => {
    const dir = await tempProject({ 'videos.yaml': 'version: 2\n' });
    const w = startWatch(dir);
    await w.waitFor(/waiting for a valid manifest/);
    expect(await w.quit()).toBe(0);
    await expect(fs.access(path.join(dir, 'videos'))).rejects.toThrow();
    await expect(fs.access(path.join(dir, 'videos.lock'))).rejects.toThrow();
  });

  it('--port alone serves the preview page (on 127.0.0.1) rather than ignoring the flag', async () => {
    const dir = await tempProject({ 'videos.yaml': twoClipManifest('A kite.', 'A boat.') });
    const w = startWatch(dir, { args: ['--port', '0'] });
    const line = w.lines[await w.waitFor(/^preview: /)] ?? '';
    expect(line).toMatch(/^preview: http:\/\/127\.0\.0\.1:\d+\/$/);
    await w.waitFor(IDLE);
    const res = await fetch(`${line.slice('preview: '.length)}state.json`);
    expect(res.status).toBe(200);
    expect(await w.quit()).toBe(0);
  });

  it('SIGINT while a job runs exits 130 with its id in videos.lock; SIGTERM exits 143, as apply', async () => {
    const dir = await tempProject({ 'videos.yaml': twoClipManifest('A kite.', 'A boat.') });
    const w = startWatch(dir, { jobSeconds: 30 });
    await w.waitFor(/alpha: submitted generate job video_/);
    const exited = new Promise<number | null>((resolve) => w.child.on('exit', (code) => resolve(code)));
    w.child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(await fs.readFile(path.join(dir, 'videos.lock'), 'utf8')).toMatch(/"jobId": "video_/);
    expect(w.lines.join('\n')).not.toMatch(/internal error|\n\s+at /);

    const idleDir = await tempProject({ 'videos.yaml': twoClipManifest('A kite.', 'A boat.') });
    const v = startWatch(idleDir, { args: ['--max-cost', '0'] });
    await v.waitFor(IDLE);
    const termed = new Promise<number | null>((resolve) => v.child.on('exit', (code) => resolve(code)));
    v.child.kill('SIGTERM');
    expect(await termed).toBe(143);
  });

  it('a manifest that does not exist at start is one line and exit 1', async () => {
    const dir = await tempProject({});
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'vidbuild.js'), 'watch', '--backend', 'emulator', '-f', 'missing.yaml'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(['missing.yaml: no such file (run `vidbuild init` to create one)']);
  });

  it('a mistyped --max-cost is refused, not taken as "no budget"', async () => {
    const dir = await tempProject({ 'videos.yaml': twoClipManifest('A kite.', 'A boat.') });
    for (const bad of ['abc', '-1', 'Infinity']) {
      const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'vidbuild.js'), 'watch', '--backend', 'emulator', `--max-cost=${bad}`], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect(r.status, bad).toBe(1);
      // Refused by the option parser (cli/option-parsers.ts) or, failing that, by watch itself.
      expect(r.stderr).toMatch(/--max-cost/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    await expect(fs.access(path.join(dir, 'videos.lock'))).rejects.toThrow();
  });

  it('an edit that names an image not there yet applies once the image is created; a reference directory deleted and recreated is still watched', async () => {
    const png = await fs.readFile(path.join(repoRoot, 'examples', 'quickstart', 'refs', 'lighthouse.png'));
    const manifest = (ref: string | undefined) =>
      [
        'version: 1',
        'defaults: { model: sora-2, size: 720x1280, seconds: 4 }',
        'outDir: videos',
        'videos:',
        '  alpha:',
        '    prompt: A lighthouse.',
        ...(ref === undefined ? [] : [`    input_reference: ${ref}`]),
        '',
      ].join('\n');
    const dir = await tempProject({ 'videos.yaml': manifest(undefined) });
    const w = startWatch(dir);
    let at = await w.waitFor(IDLE);

    // 1. The edit comes first, the image after: the error, then the apply.
    await fs.writeFile(path.join(dir, 'videos.yaml'), manifest('refs/light.png'));
    const missing = await w.waitFor(/^ERR videos\.yaml:\d+:\d+: input_reference: file not found: refs\/light\.png/, at + 1);
    at = await w.waitFor(/the last good outputs stay/, missing);
    await fs.mkdir(path.join(dir, 'refs'));
    await fs.writeFile(path.join(dir, 'refs', 'light.png'), png);
    const changed = await w.waitFor(/refs\/light\.png changed/, at + 1);
    at = await w.waitFor(IDLE, await w.waitFor(/alpha: created/, changed));

    // 2. `rm -rf refs` then restoring it (a checkout): watched again, and the new image re-runs alpha.
    await fs.rm(path.join(dir, 'refs'), { recursive: true });
    const gone = await w.waitFor(/^ERR videos\.yaml:\d+:\d+: input_reference: file not found/, at + 1);
    at = await w.waitFor(/the last good outputs stay/, gone);
    await fs.mkdir(path.join(dir, 'refs'));
    await fs.writeFile(path.join(dir, 'refs', 'light.png'), Buffer.concat([png, Buffer.from('v2')]));
    const back = await w.waitFor(/refs\/light\.png changed/, at + 1);
    at = await w.waitFor(IDLE, await w.waitFor(/alpha: created/, back));
    expect(w.slice(back, at).join('\n')).toMatch(/alpha: replace \(input_reference changed\)/);

    expect(await w.quit()).toBe(0);
  });

  it('with --preview, one prompt edit in a many-target manifest reads the cache index a few times, not once per target', async () => {
    // Each refresh of the page's "earlier versions" reads every cache index
    // entry; it used to run once per target, and once more per finished
    // target, so a 200-target manifest kept one edit busy for a minute.
    const targets = 12;
    const manifest = (edited: string) =>
      [
        'version: 1',
        'defaults: { model: sora-2, size: 1280x720, seconds: 4 }',
        'videos:',
        ...Array.from({ length: targets }, (_, i) => `  t${i}:\n    prompt: clip ${i === 3 ? edited : String(i)}`),
        '',
      ].join('\n');
    const dir = await tempProject({ 'videos.yaml': manifest('3') });
    const w = startWatch(dir, {
      args: ['--preview'],
      env: { NODE_OPTIONS: `--require ${path.join(repoRoot, 'test', 'watch', 'count-index-reads.cjs')}` },
    });
    const readsSoFar = async (from: number): Promise<{ reads: number; at: number }> => {
      w.child.kill('SIGUSR2');
      const at = await w.waitFor(/^ERR index-reads \d+$/, from);
      return { reads: Number(/\d+/.exec(w.lines[at] ?? '')?.[0]), at };
    };
    const first = await w.waitFor(IDLE);
    const before = await readsSoFar(first + 1);
    await fs.writeFile(path.join(dir, 'videos.yaml'), manifest('3, edited'));
    const done = await w.waitFor(IDLE, before.at + 1);
    expect(w.slice(before.at + 1, done).join('\n')).toMatch(/t3: replace/);
    const after = await readsSoFar(done + 1);
    const entries = (await fs.readdir(path.join(dir, '.vidbuild', 'cache', 'index'))).length;
    expect(entries).toBe(targets + 1);
    // A handful of passes over the index (plan, each refresh of the page), not targets x entries.
    expect(after.reads - before.reads).toBeLessThanOrEqual(4 * entries);
    expect(await w.quit()).toBe(0);
  });

  it('--max-cost reached mid-session: the edit is held with what it would cost and what to do, nothing is submitted', async () => {
    const dir = await tempProject({ 'videos.yaml': twoClipManifest('A red ball.', 'A blue cube.') });
    const w = startWatch(dir, { args: ['--max-cost', '1'] });
    const first = await w.waitFor(IDLE);
    expect(w.slice(0, first).join('\n')).toMatch(/re-plan: 2 to run/);
    await fs.writeFile(path.join(dir, 'videos.yaml'), twoClipManifest('A red ball, bouncing.', 'A blue cube.'));
    const next = await w.waitFor(IDLE, first + 1);
    const cycle = w.slice(first + 1, next).join('\n');
    expect(cycle).toMatch(
      /alpha: held: \$0\.40 would bring the session to \$1\.20, over --max-cost \$1\.00 \(restart watch with a higher --max-cost to run it\)/,
    );
    expect(cycle).not.toMatch(/submitted/);
    expect(await lockedPrompt(dir, 'alpha')).toBe('A red ball.');
    expect(await w.quit()).toBe(0);
  });

  it('under --max-cost, a target with no known price is held (its cost is unknown, not $0); the priced one runs', async () => {
    const manifest = twoClipManifest('A red ball.', 'A blue cube.').replace(
      '  beta:\n',
      '    size: 1024x1792\n  beta:\n',
    ) + 'provider: { capabilities: { models: { sora-2: { sizes: [1024x1792] } } } }\n';
    const dir = await tempProject({ 'videos.yaml': manifest });
    const w = startWatch(dir, { args: ['--max-cost', '5'] });
    const first = await w.waitFor(IDLE);
    const cycle = w.slice(0, first).join('\n');
    expect(cycle).toMatch(/alpha: held: no known price for sora-2 at 1024x1792, so --max-cost cannot bound it \(give it under `pricing:` in the manifest, or restart watch with --allow-unpriced\)/);
    expect(cycle).toMatch(/beta: created/);
    expect(cycle).not.toMatch(/alpha: submitted/);
    expect(await w.quit()).toBe(0);
  });

  it('on a paying backend without a terminal, refuses to start without --yes', async () => {
    const dir = await tempProject({ 'videos.yaml': twoClipManifest('A kite.', 'A boat.') });
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'vidbuild.js'), 'watch', '--base-url', 'http://127.0.0.1:9/v1'], {
      cwd: dir,
      env: { ...process.env, OPENAI_API_KEY: 'sk-test-not-a-real-key', NO_COLOR: '1' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/pass --yes/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout + r.stderr).not.toContain('sk-test-not-a-real-key');
  });
});
