import { describe, expect, it, onTestFinished } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadManifest } from '../../src/manifest/load-manifest.js';
import { writeLockfile } from '../../src/lock/write-lockfile.js';
import { simulateApply } from '../plan/simulate-apply.js';
import { solidPng } from '../emulator/media.js';
import { ffmpegClip, ffmpegImage } from '../fixtures/images.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/vidbuild.js');

/** The reference image: a real PNG of the manifest's size (validate reads its header). */
const PNG = solidPng(720, 1280);

const MANIFEST = `version: 1
defaults: { model: sora-2, size: 720x1280, seconds: 4 }
videos:
  intro:
    prompt: Wide shot of a lighthouse at dawn.
    seconds: 8
    input_reference: refs/a.png
  intro_night: { remix: intro, prompt: Same shot at night. }
  intro_long: { extend: intro, prompt: The camera rises., seconds: 4 }
  other: { prompt: Unrelated. }
`;

async function project(manifest = MANIFEST): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-cli-plan-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await mkdir(path.join(dir, 'refs'));
  await writeFile(path.join(dir, 'refs/a.png'), PNG);
  await writeFile(path.join(dir, 'videos.yaml'), manifest);
  return dir;
}

/** Writes the lock and outputs a completed apply would leave (the content scheme of simulateApply). */
async function applied(dir: string): Promise<void> {
  const loaded = await loadManifest(path.join(dir, 'videos.yaml'));
  if (!loaded.ok) throw new Error(loaded.error.map((d) => d.message).join('\n'));
  const { manifest } = loaded.value;
  const { lock } = simulateApply(manifest, { 'refs/a.png': PNG });
  // simulateApply hashes `${name}/${variant}/${jobId}` as each output's content.
  const withSizes = { ...lock, videos: Object.fromEntries(Object.entries(lock.videos).map(([n, e]) => [n, { ...e, assets: Object.fromEntries(Object.entries(e.assets).map(([v, a]) => [v, { ...a, bytes: `${n}/${v}/video_${n}`.length }])) }])) };
  for (const [name, e] of Object.entries(withSizes.videos)) {
    for (const [variant, a] of Object.entries(e.assets)) {
      await mkdir(path.dirname(path.join(dir, a.path)), { recursive: true });
      await writeFile(path.join(dir, a.path), `${name}/${variant}/video_${name}`);
    }
  }
  await writeLockfile(path.join(dir, 'videos.lock'), withSizes);
}

function plan(dir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'plan', ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vidbuild plan', () => {
  it('plans a fresh project: create lines, summary, exit 0 (2 with --detailed-exitcode), no colour in a pipe', async () => {
    const dir = await project();
    const r = plan(dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  + intro        create  not in videos.lock  $0.80');
    expect(r.stdout).toContain('Plan: 4 to create. Estimated cost:');
    expect(r.stdout).toContain('Estimated cost: $2.40 (prices of 2025-10-06).');
    expect(r.stdout).not.toContain('\u001b[');
    expect(r.stderr).toBe('');
    expect(plan(dir, '--detailed-exitcode').code).toBe(2);
  });

  it('says nothing changed after an apply, and explains edits with a cascade', async () => {
    const dir = await project();
    await applied(dir);
    const clean = plan(dir, '--detailed-exitcode');
    expect(clean.stdout).toBe('No changes. Your videos match the manifest.\n');
    expect(clean.code).toBe(0);

    await writeFile(path.join(dir, 'videos.yaml'), MANIFEST.replace('lighthouse at dawn', 'lighthouse at dusk'));
    const edited = plan(dir, '--detailed-exitcode');
    expect(edited.code).toBe(2);
    expect(edited.stdout).toMatch(/-\/\+ intro +replace +prompt changed +\$0\.80/);
    expect(edited.stdout).toMatch(/-\/\+ intro_night +replace +source intro will be replaced +\$0\.80/);
    expect(edited.stdout).toContain('3 to replace');
    expect(edited.stdout).toContain('1 unchanged');
  });

  it('--json prints the plan as data; --target narrows; --replace forces', async () => {
    const dir = await project();
    await applied(dir);
    await rm(path.join(dir, 'videos/other.mp4'));
    const r = plan(dir, '--json', '--target', 'intro_long', '--replace', 'intro');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.steps.map((s: { name: string; action: string }) => [s.name, s.action])).toEqual([
      ['intro', 'replace'],
      ['intro_long', 'replace'],
    ]);
    expect(json.steps[1]).toMatchObject({ reason: 'source intro will be replaced', changes: ['source intro'], dependsOn: ['intro'], provisional: true });
    expect(json.summary).toMatchObject({ changes: true, cost: 1.2, priceTableDate: '2025-10-06' });

    // A target forced outside the --target selection is planned too, as apply runs it.
    const outside = JSON.parse(plan(dir, '--json', '--target', 'intro', '--replace', 'other').stdout);
    expect(outside.steps.map((s: { name: string; action: string }) => [s.name, s.action])).toEqual([
      ['intro', 'unchanged'],
      ['other', 'replace'],
    ]);
  });

  it('reports a missing output as fetch or regenerate', async () => {
    const dir = await project();
    await applied(dir);
    await rm(path.join(dir, 'videos/other.mp4'));
    // simulateApply's jobs expired long ago and nothing is cached: the video must be paid for again.
    expect(plan(dir).stdout).toMatch(/-\/\+ other +regenerate +video missing \(videos\/other\.mp4\); job video_other expired/);
  });

  it('refuses bad input with one line per problem and exit 1', async () => {
    const dir = await project(MANIFEST.replace('  other: { prompt: Unrelated. }', '  other: { remix: nope, prompt: x }'));
    const bad = plan(dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^videos\.yaml:\d+:\d+: .*nope/m);
    expect(bad.stderr).not.toMatch(/\n\s+at /);

    const ok = await project();
    await writeFile(path.join(ok, 'videos.lock'), '{"lockfileVersion": 1, "videos": {');
    const corrupt = plan(ok);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(/^videos\.lock:1:\d+: not valid JSON: .*; fix it or move it away/);
    expect(await readFile(path.join(ok, 'videos.lock'), 'utf8')).toBe('{"lockfileVersion": 1, "videos": {');

    // A name the manifest lacks, in a project that is otherwise fine (a corrupt lock is reported first, as apply does).
    await rm(path.join(ok, 'videos.lock'));
    const unknown = plan(ok, '--target', 'intro_nite');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no target named intro_nite in videos.yaml (did you mean intro_night?)');
    // A name that shares nothing with any target gets no far-fetched suggestion.
    const unrelated = plan(ok, '--target', 'zz');
    expect(unrelated.stderr).toBe('no target named zz in videos.yaml\n');
  });

  it('--json reports errors as one JSON document on stdout (validate --json shape), nothing on stderr, exit 1', async () => {
    const dir = await project(MANIFEST.replace('  other: { prompt: Unrelated. }', '  other: { prompt: x, seconds: 5 }'));
    const bad = plan(dir, '--json');
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({ code: 1, stderr: '' });
    expect(JSON.parse(bad.stdout)).toEqual({
      file: 'videos.yaml',
      ok: false,
      diagnostics: [
        { code: 'unsupported-seconds', severity: 'error', message: 'seconds must be one of 4, 8, 12 (got 5)', location: { file: 'videos.yaml', line: 10, col: 32 } },
      ],
    });

    const ok = await project();
    await writeFile(path.join(ok, 'videos.lock'), '{"lockfileVersion": 1, "videos": {');
    const corrupt = plan(ok, '--json');
    expect({ code: corrupt.code, stderr: corrupt.stderr }).toEqual({ code: 1, stderr: '' });
    expect(JSON.parse(corrupt.stdout)).toMatchObject({ file: 'videos.yaml', ok: false, diagnostics: [{ code: 'lock-corrupt', location: { file: 'videos.lock', line: 1 } }] });

    await rm(path.join(ok, 'videos.lock'));
    const unknown = plan(ok, '--json', '--target', 'intro_nite', '-f', 'videos.yaml');
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toEqual({
      file: 'videos.yaml',
      ok: false,
      diagnostics: [{ code: 'unknown-target', severity: 'error', message: 'no target named intro_nite in videos.yaml (did you mean intro_night?)' }],
    });
  });

  it('--json puts manifest warnings in the plan document (with their location), not on stderr', async () => {
    const dir = await project(
      MANIFEST.replace('videos:\n', 'characters:\n  mascot: { video: refs/mascot.mp4 }\nvideos:\n').replace('  other: { prompt: Unrelated. }', '  other: { prompt: Unrelated., characters: [mascot] }'),
    );
    // A real character video: validate refuses anything the API would (a PNG, a clip of the wrong shape).
    ffmpegClip(path.join(dir, 'refs', 'mascot.mp4'));
    const text = plan(dir);
    expect(text.stderr).toMatch(/^videos\.yaml:\d+:\d+: warning: .*mascot/m);
    const r = plan(dir, '--json');
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ file: 'videos.yaml', ok: true, version: 1 });
    expect(json.warnings).toContainEqual(expect.objectContaining({ message: expect.stringContaining('mascot'), location: expect.objectContaining({ file: 'videos.yaml' }) }));
  });

  it('prices an edit of a local file by the file\'s length, and an extension of it by what it adds (the total is the file\'s plus that)', async () => {
    const dir = await project('version: 1\nvideos:\n  fix: { edit: { file: refs/clip.mp4 }, prompt: Remove the logo. }\n  more: { extend: { file: refs/clip.mp4 }, prompt: Keep going., seconds: 8 }\n');
    ffmpegClip(path.join(dir, 'refs', 'clip.mp4'), 1280, 720, 3);
    const r = plan(dir, '--json');
    expect(r.code).toBe(0);
    const steps: unknown = JSON.parse(r.stdout).steps;
    expect(steps).toMatchObject([
      { name: 'fix', kind: 'edit', seconds: 3, cost: 0.3 },
      { name: 'more', kind: 'extend', seconds: 11, cost: 0.8 },
    ]);
  });

  it('writes nothing but its own hash cache, never outside the project, and never fails over it', async () => {
    const listing = async (dir: string): Promise<string[]> =>
      (await readdir(dir, { recursive: true })).map(String).filter((p) => !p.startsWith('.vidbuild')).sort();
    const old = new Date(Date.now() - 60_000);
    const fresh = async (): Promise<string> => {
      const dir = await project();
      await utimes(path.join(dir, 'refs/a.png'), old, old); // old enough for the hash cache to keep it
      return dir;
    };
    const outside = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-cli-plan-outside-'));
    onTestFinished(() => rm(outside, { recursive: true, force: true }));

    const plain = await fresh();
    const before = await listing(plain);
    expect(plan(plain).code).toBe(0);
    expect(await listing(plain)).toEqual(before);
    expect(await readdir(path.join(plain, '.vidbuild'))).toEqual(['hash-cache.json']);

    // `.vidbuild` leading out of the project: refused in one line, nothing read or written there (issue 13 item 4).
    const linked = await fresh();
    await symlink(outside, path.join(linked, '.vidbuild'));
    const refused = plan(linked);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^\.vidbuild is a symlink leading outside the project \(to .*\); vidbuild reads and writes only inside the manifest's folder: replace it with a folder\n$/);
    expect(await readdir(outside)).toEqual([]);

    // `.vidbuild` is a file: plan still works and leaves it alone (was an internal error).
    const file = await fresh();
    await writeFile(path.join(file, '.vidbuild'), 'mine');
    const r = plan(file);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(await readFile(path.join(file, '.vidbuild'), 'utf8')).toBe('mine');

    // The cache file itself a symlink out: not followed.
    const cacheLink = await fresh();
    await mkdir(path.join(cacheLink, '.vidbuild'));
    await writeFile(path.join(outside, 'target.json'), 'theirs');
    await symlink(path.join(outside, 'target.json'), path.join(cacheLink, '.vidbuild/hash-cache.json'));
    expect(plan(cacheLink).code).toBe(0);
    expect(await readFile(path.join(outside, 'target.json'), 'utf8')).toBe('theirs');
  });

  it('refuses a lockfile with a repeated key or merge conflict markers at its line, and leaves it as it is', async () => {
    const dir = await project();
    await applied(dir);
    const good = await readFile(path.join(dir, 'videos.lock'), 'utf8');
    const lines = good.split('\n');
    const entry = lines.findIndex((l) => l === '    "intro": {');
    expect(entry).toBeGreaterThan(0);

    // A merge that kept both sides of an entry: JSON.parse would silently keep only the second.
    const other = lines.findIndex((l) => l === '    "other": {');
    const twice = [...lines.slice(0, other), '    "intro": {},', ...lines.slice(other)].join('\n');
    await writeFile(path.join(dir, 'videos.lock'), twice);
    const dup = plan(dir);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toBe(
      `videos.lock:${other + 1}:5: duplicate key "intro" (also at line ${entry + 1}); fix it or move it away (vidbuild never overwrites a corrupt lockfile)\n`,
    );
    expect(await readFile(path.join(dir, 'videos.lock'), 'utf8')).toBe(twice);

    const conflicted = `${lines.slice(0, entry).join('\n')}\n<<<<<<< HEAD\n${lines.slice(entry).join('\n')}=======\n>>>>>>> topic\n`;
    await writeFile(path.join(dir, 'videos.lock'), conflicted);
    const conflict = plan(dir);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toBe(
      `videos.lock:${entry + 1}:1: videos.lock has unresolved git merge conflict markers; resolve them keeping one entry per target (each records a paid job), then run again\n`,
    );
    expect(await readFile(path.join(dir, 'videos.lock'), 'utf8')).toBe(conflicted);

    // Escaped quotes and colons inside strings are not keys.
    const escaped = good.replace('"prompt": "Same shot at night."', '"prompt": "Same \\"shot\\": at \\\\ night."');
    expect(escaped).not.toBe(good);
    await writeFile(path.join(dir, 'videos.lock'), escaped);
    expect(plan(dir).code).toBe(0);
  });
});

describe('real-world inputs end to end (plan, apply --backend emulator, plan)', () => {
  function vidbuild(dir: string, ...args: string[]) {
    const env = { ...process.env, NO_COLOR: '', VIDBUILD_EMULATOR_JOB_SECONDS: '0.2', VIDBUILD_EMULATOR_FPS: '4' };
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('a renamed target restored from the cache: prune before the apply keeps the job, so a later remix of it works', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-cli-plan-rename-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const yaml = (name: string, extra = '') => `version: 1\nvideos:\n  ${name}: { prompt: A lighthouse at dawn. }\n${extra}`;
    await writeFile(path.join(dir, 'videos.yaml'), yaml('intro'));
    expect(vidbuild(dir, 'apply', '--backend', 'emulator', '--yes').code).toBe(0);
    const jobId = JSON.parse(await readFile(path.join(dir, 'videos.lock'), 'utf8')).videos.intro.job.jobId;

    await writeFile(path.join(dir, 'videos.yaml'), yaml('opening'));
    expect(vidbuild(dir, 'plan').stdout).toContain(`<= opening  fetch  renamed from intro (same inputs, job ${jobId}): restore from cache`);
    // Was: intro listed as an orphan, and prune deleted the job opening was about to adopt.
    const pruned = vidbuild(dir, 'prune', '--yes', '--backend', 'emulator');
    expect(pruned.stdout).not.toContain('pruned intro');
    expect(vidbuild(dir, 'apply', '--backend', 'emulator', '--yes').code).toBe(0);

    await writeFile(path.join(dir, 'videos.yaml'), yaml('opening', '  night: { remix: opening, prompt: At night. }\n'));
    const remix = vidbuild(dir, 'apply', '--backend', 'emulator', '--yes');
    expect(remix.stderr + remix.stdout).toMatch(/night: created/);
    expect(remix.code).toBe(0);
    // Now intro is an orphan; prune drops its entry and file but keeps the job opening holds.
    const later = vidbuild(dir, 'prune', '--yes', '--backend', 'emulator');
    expect(later.stdout).toContain(`intro (job ${jobId} kept: a current target uses it; deletes videos/intro.mp4)`);
    const lock = JSON.parse(await readFile(path.join(dir, 'videos.lock'), 'utf8'));
    expect(Object.keys(lock.videos).sort()).toEqual(['night', 'opening']);
    expect(lock.videos.opening.job.jobId).toBe(jobId);
  });

  it('a character with a real name (accents, a space) is created under that name, sent by id, and locked by it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-cli-plan-chars-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await mkdir(path.join(dir, 'refs'));
    ffmpegClip(path.join(dir, 'refs', 'gato.mp4'));
    ffmpegImage(path.join(dir, 'refs', 'first.jpg'), 1280, 720);
    await writeFile(
      path.join(dir, 'videos.yaml'),
      [
        'version: 1',
        'defaults: { model: sora-2, size: 1280x720, seconds: 4 }',
        'characters:',
        '  Señor Gato: { video: refs/gato.mp4 }',
        'videos:',
        '  hero: { prompt: Señor Gato naps in the sun., characters: [Señor Gato], input_reference: refs/first.jpg }',
        '',
      ].join('\n'),
    );
    const planned = vidbuild(dir, 'plan');
    expect(planned.stderr).toBe('');
    expect(planned.stdout).toMatch(/\+ Señor Gato \(character\) +create +not in videos\.lock/);

    const applied = vidbuild(dir, 'apply', '--backend', 'emulator', '--yes');
    expect(applied.stderr + applied.stdout).toMatch(/character Señor Gato: char_/);
    expect(applied.code).toBe(0);
    const lock = JSON.parse(await readFile(path.join(dir, 'videos.lock'), 'utf8'));
    const locked = lock.characters['Señor Gato'];
    expect(locked.job.state).toBe('created');
    expect(lock.videos.hero.job.request.characterIds).toEqual([locked.job.characterId]);
    // The emulator (which insists on the name verbatim in the prompt) got the name intact.
    const state = await readFile(path.join(dir, '.vidbuild', 'emulator', 'state.json'), 'utf8');
    expect(state).toContain('"name":"Señor Gato"');

    const again = vidbuild(dir, 'plan', '--detailed-exitcode');
    expect(again.stdout).toBe('No changes. Your videos match the manifest.\n');
    expect(again.code).toBe(0);
  });
});
