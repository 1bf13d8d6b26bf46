import { existsSync, promises as fsp } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import {
  apply,
  cliEnv,
  emulator,
  expectLockMatchesDisk,
  posts,
  readLock,
  renderCacheDir,
  tempProject,
  vidbuild,
} from './rig.js';

/**
 * The commands around apply, through the real CLI against the real emulator:
 * status, prune, import, and apply's rails (--max-cost, --yes without a TTY,
 * --frozen / pull, --target, --replace).
 */
const THREE = `version: 1
defaults: { model: sora-2, size: 720x1280, seconds: 4 }
outDir: out
videos:
  base:
    prompt: A lighthouse at dawn.
  night:
    remix: base
    prompt: The same lighthouse at night.
  other:
    prompt: A quiet harbour.
`;

interface StatusRowJson {
  target: string;
  action: string;
  jobId?: string;
  status?: string;
  expiresAt?: string;
  local: string;
}

function requests(emu: { stats(): { requests: Record<string, number> } }): number {
  return Object.values(emu.stats().requests).reduce((a, b) => a + b, 0);
}

/** The one-line shape every expected failure has: no stack, no blank lines. */
function expectOneLine(stderr: string): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('vidbuild status and prune', () => {
  it('status shows action, job, status, expiry and local state (table and --json); prune deletes orphans remotely and locally', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': THREE });
    expect((await apply(dir, emu)).code).toBe(0);
    const locked = (await readLock(dir)).videos;

    // Drift: one output deleted, one prompt edited, one target dropped from the manifest.
    await fsp.rm(path.join(dir, 'out', 'base.mp4'));
    await fsp.writeFile(
      path.join(dir, 'videos.yaml'),
      THREE.replace('A lighthouse at dawn.', 'A lighthouse at dusk.').replace(/ {2}other:\n.*\n/, ''),
    );
    const lockBefore = await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8');

    const json = await vidbuild(['status', '--json', '--base-url', emu.baseURL], dir);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as StatusRowJson[];
    const byName = new Map(rows.map((r) => [r.target, r]));
    expect(byName.get('base')).toMatchObject({ action: 'replace', jobId: locked['base']?.job.jobId, status: 'completed', local: 'video missing' });
    expect(byName.get('night')).toMatchObject({ action: 'replace', jobId: locked['night']?.job.jobId, status: 'completed', local: 'ok' });
    expect(byName.get('other')).toMatchObject({ action: 'orphan', jobId: locked['other']?.job.jobId, status: 'completed', local: 'ok' });
    for (const r of rows) expect(Date.parse(r.expiresAt ?? '')).toBeGreaterThan(Date.now());

    const table = await vidbuild(['status', '--base-url', emu.baseURL], dir);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TARGET\s+ACTION\s+JOB\s+STATUS\s+AGE\s+EXPIRES\s+LOCAL$/);
    expect(lines.find((l) => l.startsWith('base '))).toMatch(/^base\s+replace\s+video_\w+\s+completed\s+\d+s ago\s+in \d+[mh]\s+video missing$/);
    expect(lines.find((l) => l.startsWith('other '))).toMatch(/^other\s+orphan\s+video_\w+\s+completed\s+.*\bok$/);
    // Read-only: no run lock taken, nothing written, nothing paid.
    expect(await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8')).toBe(lockBefore);
    expect(posts(emu)).toBe(3);

    // Without a terminal, prune needs --yes; it changes nothing.
    const refused = await vidbuild(['prune', '--base-url', emu.baseURL], dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/pass --yes/);
    expectOneLine(refused.stderr);
    expect(refused.stdout).toMatch(/- other \(job video_\w+; deletes out\/other\.mp4\)/);
    expect(emu.stats().requests['DELETE /videos/{id}']).toBeUndefined();
    expect(existsSync(path.join(dir, 'out', 'other.mp4'))).toBe(true);

    const pruned = await vidbuild(['prune', '--yes', '--base-url', emu.baseURL], dir);
    expect(pruned.stderr).toBe('');
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/pruned other/);
    expect(emu.stats().requests['DELETE /videos/{id}']).toBe(1);
    expect(existsSync(path.join(dir, 'out', 'other.mp4'))).toBe(false);
    const after = (await readLock(dir)).videos;
    expect(Object.keys(after).sort()).toEqual(['base', 'night']);
    // The remote job is gone.
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: emu.baseURL, maxRetries: 0 });
    await expect(client.videos.retrieve(locked['other']?.job.jobId ?? '')).rejects.toMatchObject({ status: 404 });

    const again = await vidbuild(['prune', '--yes', '--base-url', emu.baseURL], dir);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Nothing to prune/);
    expect(emu.stats().requests['DELETE /videos/{id}']).toBe(1);
  });
});

describe('vidbuild import', () => {
  it('adopts a completed job made with the SDK, downloads it, and plan then shows it unchanged; failed or unknown ids are one-line errors', async () => {
    const emu = await emulator();
    const dir = await tempProject({
      'videos.yaml': `version: 1
defaults: { model: sora-2, size: 720x1280, seconds: 4 }
outDir: out
videos:
  hero:
    prompt: A kite over the dunes.
    assets: [video, thumbnail]
`,
    });
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: emu.baseURL, maxRetries: 0 });
    const made = await client.videos.create({ prompt: 'A kite over the dunes.', model: 'sora-2', size: '720x1280', seconds: '4' });
    const broken = await client.videos.create({ prompt: 'A kite. [[fail:moderation_blocked]]', model: 'sora-2', size: '720x1280', seconds: '4' });
    for (const id of [made.id, broken.id]) {
      // Wait for the emulator to finish the jobs (it reports progress; each poll is a real request).
      for (let v = await client.videos.retrieve(id); v.status === 'queued' || v.status === 'in_progress'; v = await client.videos.retrieve(id)) {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const postsBefore = posts(emu);

    const failed = await vidbuild(['import', 'hero', broken.id, '--base-url', emu.baseURL], dir);
    expect(failed.code).toBe(1);
    expectOneLine(failed.stderr);
    expect(failed.stderr).toMatch(new RegExp(`job ${broken.id} is failed; only a completed job can be imported`));

    const unknown = await vidbuild(['import', 'hero', 'video_doesnotexist', '--base-url', emu.baseURL], dir);
    expect(unknown.code).toBe(1);
    expectOneLine(unknown.stderr);
    expect(unknown.stderr).toMatch(/no job video_doesnotexist at http:\/\/127\.0\.0\.1:\d+\/v1/);

    const noTarget = await vidbuild(['import', 'villain', made.id, '--base-url', emu.baseURL], dir);
    expect(noTarget.code).toBe(1);
    expectOneLine(noTarget.stderr);
    expect(existsSync(path.join(dir, 'videos.lock'))).toBe(false);

    const imported = await vidbuild(['import', 'hero', made.id, '--base-url', emu.baseURL], dir);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(new RegExp(`imported job ${made.id} as hero`));
    const lock = (await readLock(dir)).videos;
    expect(lock['hero']?.job).toMatchObject({ state: 'job', jobId: made.id, status: 'completed' });
    expect(await expectLockMatchesDisk(dir)).toBe(2);

    const plan = await vidbuild(['plan', '--json'], dir);
    const parsed = JSON.parse(plan.stdout) as { steps: { name: string; action: string }[]; summary: { cost: number } };
    expect(parsed.steps).toEqual([expect.objectContaining({ name: 'hero', action: 'unchanged' })]);
    expect(parsed.summary.cost).toBe(0);
    const noop = await apply(dir, emu);
    expect(noop.code).toBe(0);
    expect(posts(emu)).toBe(postsBefore);
  });
});

describe('apply rails', () => {
  it('pull restores every output it can when some target needs a new job, names that one, creates nothing and exits 1; apply --frozen still refuses the whole run', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': THREE });
    expect((await vidbuild(['apply', '--yes', '--base-url', emu.baseURL], dir)).code).toBe(0);
    // A fresh clone: outputs and cache gone, and a teammate added a target nobody generated yet.
    await fsp.rm(path.join(dir, 'out'), { recursive: true });
    await fsp.rm(path.join(dir, '.vidbuild'), { recursive: true });
    await fsp.appendFile(path.join(dir, 'videos.yaml'), '  added:\n    prompt: A new clip nobody made yet.\n');
    const lockBefore = await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8');
    const before = posts(emu);

    const frozen = await vidbuild(['apply', '--frozen', '--base-url', emu.baseURL], dir);
    expect(frozen.code).toBe(1);
    expect(frozen.stderr).toMatch(/run `vidbuild apply` to generate them/);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);

    const pulled = await vidbuild(['pull', '--base-url', emu.baseURL], dir);
    expect(pulled.code).toBe(1);
    expect(pulled.stderr).toMatch(/^vidbuild pull: these need new jobs, which it never creates:\n {2}added: create \(not in videos\.lock\)\nrestoring everything else; run `vidbuild apply` to generate them\n$/);
    expect(pulled.stdout).toMatch(/✗ added: failed: frozen/);
    for (const name of ['base', 'night', 'other']) expect(existsSync(path.join(dir, 'out', `${name}.mp4`)), name).toBe(true);
    expect(existsSync(path.join(dir, 'out', 'added.mp4'))).toBe(false);
    expect(posts(emu)).toBe(before);
    // The outputs came back as locked: nothing in the lock changed.
    expect(await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8')).toBe(lockBefore);
  });

  it('--max-cost, --yes without a TTY, --frozen / pull refuse before any request; --backend emulator never asks', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': THREE });

    const overBudget = await vidbuild(['apply', '--yes', '--max-cost', '0.5', '--base-url', emu.baseURL], dir);
    expect(overBudget.code).toBe(1);
    expectOneLine(overBudget.stderr);
    expect(overBudget.stderr).toMatch(/estimated at \$1\.20, above --max-cost \$0\.50; nothing was done/);

    // A provider reached through --base-url costs money, even on this machine.
    const unconfirmed = await vidbuild(['apply', '--base-url', emu.baseURL], dir);
    expect(unconfirmed.code).toBe(1);
    expectOneLine(unconfirmed.stderr);
    expect(unconfirmed.stderr).toMatch(/this plan spends money \(about \$1\.20\); pass --yes/);

    const frozen = await vidbuild(['apply', '--frozen', '--yes', '--base-url', emu.baseURL], dir);
    expect(frozen.code).toBe(1);
    const pulled = await vidbuild(['pull', '--base-url', emu.baseURL], dir);
    expect(pulled.code).toBe(1);
    for (const [r, head] of [[frozen, /^--frozen: these need new jobs/], [pulled, /^vidbuild pull: these need new jobs/]] as const) {
      expect(r.stderr).toMatch(head);
      expect(r.stderr).toMatch(/^ {2}base: create \(not in videos\.lock\)$/m);
      expect(r.stderr).toMatch(/^ {2}night: create \(.*\)$/m);
      expect(r.stderr).toMatch(/^ {2}other: create \(not in videos\.lock\)$/m);
      expect(r.stderr).toMatch(/run `vidbuild apply` to generate them/);
    }
    expect(requests(emu)).toBe(0);
    expect(existsSync(path.join(dir, 'videos.lock'))).toBe(false);

    // Within budget it runs.
    const within = await vidbuild(['apply', '--yes', '--max-cost', '5', '--base-url', emu.baseURL], dir);
    expect(within.code).toBe(0);

    // The in-process emulator is free: no --yes, no terminal, no question.
    const free = await tempProject({ 'videos.yaml': 'version: 1\noutDir: out\nvideos:\n  a: { prompt: A field. }\n' });
    const env = cliEnv({
      VIDBUILD_EMULATOR_JOB_SECONDS: '0.3',
      VIDBUILD_EMULATOR_FPS: '4',
      VIDBUILD_EMULATOR_RENDER_CACHE: renderCacheDir,
    });
    const offline = await vidbuild(['apply', '--backend', 'emulator'], free, env);
    expect(offline.stderr).toBe('');
    expect(offline.code).toBe(0);
    expect(await expectLockMatchesDisk(free)).toBe(1);
  });

  it('--target runs only that target and its sources; --replace forces exactly one new job', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': THREE });

    const targeted = await apply(dir, emu, ['--target', 'night']);
    expect(targeted.code).toBe(0);
    expect(emu.stats().requests['POST /videos']).toBe(1);
    expect(emu.stats().requests['POST /videos/{id}/remix']).toBe(1);
    expect(Object.keys((await readLock(dir)).videos).sort()).toEqual(['base', 'night']);
    expect(existsSync(path.join(dir, 'out', 'other.mp4'))).toBe(false);

    const unknown = await apply(dir, emu, ['--target', 'nope']);
    expect(unknown.code).toBe(1);
    expectOneLine(unknown.stderr);
    expect(unknown.stderr).toBe('no target named nope in videos.yaml\n');
    const typo = await apply(dir, emu, ['--target', 'nigth']);
    expect(typo.stderr).toBe('no target named nigth in videos.yaml (did you mean night?)\n');

    expect((await apply(dir, emu)).code).toBe(0);
    expect(emu.stats().requests['POST /videos']).toBe(2);
    const before = (await readLock(dir)).videos;

    const replaced = await apply(dir, emu, ['--replace', 'other']);
    expect(replaced.code).toBe(0);
    expect(emu.stats().requests['POST /videos']).toBe(3);
    expect(emu.stats().requests['POST /videos/{id}/remix']).toBe(1);
    const after = (await readLock(dir)).videos;
    expect(after['other']?.job.jobId).not.toBe(before['other']?.job.jobId);
    expect(after['base']?.job.jobId).toBe(before['base']?.job.jobId);
    expect(after['night']?.job.jobId).toBe(before['night']?.job.jobId);
    await expectLockMatchesDisk(dir);

    // --replace outside a --target selection is still done, not silently dropped.
    const both = await apply(dir, emu, ['--target', 'base', '--replace', 'other']);
    expect(both.code).toBe(0);
    expect(emu.stats().requests['POST /videos']).toBe(4);
    expect((await readLock(dir)).videos['other']?.job.jobId).not.toBe(after['other']?.job.jobId);
  });
});

/** A loopback port nothing listens on: bound, then closed again. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('an unreachable backend', () => {
  // Without the fail-fast path this spent ~30 s in reconcile rounds; the exact
  // 'nothing was sent' line and the empty lock below are what only that path
  // produces, so no timing bound is needed (a tight one flaked on loaded cores).
  it('fails at once with one line naming the base URL; nothing was sent, so no intent is left; an old intent is kept', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/v1`;
    const dir = await tempProject({ 'videos.yaml': 'version: 1\noutDir: out\nvideos:\n  a: { prompt: A field. }\n' });
    const r = await vidbuild(['apply', '--yes', '--base-url', url], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const mentions = r.stdout.split('\n').filter((l) => l.includes('could not connect'));
    // Once as it happens, once in the recap under the summary (FailureRecap).
    expect(mentions).toEqual([
      `✗ a: failed: connection-failed: could not connect to ${url} (ECONNREFUSED); nothing was sent`,
      `  ✗ a: connection-failed: could not connect to ${url} (ECONNREFUSED); nothing was sent`,
    ]);
    expect(r.stdout).toContain('Failed (1):');
    expect(r.stdout).not.toMatch(/\n\s+at /);
    expect((await readLock(dir)).videos).toEqual({});

    const imported = await vidbuild(['import', 'a', 'video_0123', '--base-url', url], dir);
    expect(imported.code).toBe(1);
    expectOneLine(imported.stderr);
    expect(imported.stderr).toContain(`could not connect to ${url} (ECONNREFUSED)`);

    // An intent from an interrupted run may have reached the server before: it must survive.
    const intentAt = new Date().toISOString();
    const planned = JSON.parse((await vidbuild(['plan', '--json'], dir)).stdout) as { steps: { fingerprint: string }[] };
    const fingerprint = planned.steps[0]?.fingerprint;
    const request = { kind: 'generate', model: 'sora-2', prompt: 'A field.', seconds: 4, size: '720x1280' };
    const job = { state: 'intent', intentAt, request };
    const entry = { kind: 'generate', fingerprint, model: 'sora-2', size: '720x1280', seconds: 4, job, assets: {}, updatedAt: intentAt };
    await fsp.writeFile(path.join(dir, 'videos.lock'), `${JSON.stringify({ lockfileVersion: 1, characters: {}, videos: { a: entry } }, null, 2)}\n`);
    const resumed = await vidbuild(['apply', '--yes', '--base-url', url], dir);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toBe('');
    expect(resumed.stdout).toMatch(new RegExp(`a: failed: reconcile-failed: .*could not connect to ${url.replace(/[./]/g, '\\$&')} \\(ECONNREFUSED\\)\\); the intent is kept`));
    expect((await readLock(dir)).videos['a']?.job).toMatchObject({ state: 'intent', intentAt });
  });
});
