import { promises as fsp } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { apply, collect, emulator, expectLockMatchesDisk, listJobs, posts, readLock, spawnCli, tempProject, vidbuild } from './rig.js';

const MANIFEST = `version: 1
defaults: { model: sora-2, size: 720x1280, seconds: 4 }
outDir: out
videos:
  base:
    prompt: A lighthouse at dawn.
  night:
    remix: base
    prompt: The same lighthouse at night.
`;

/**
 * A proxy in front of the emulator that forwards everything except asset
 * downloads, which it holds open without answering: a download is then
 * certainly in progress when the test interrupts the run.
 */
/** A one-target project's manifest: `clip` with this prompt. */
const manifest = (prompt: string): string => `version: 1\noutDir: out\nvideos:\n  clip: { prompt: "${prompt}" }\n`;

/** Starts `apply`, waits until a job is submitted, presses Ctrl-C, and expects the interrupted exit (130). */
async function interruptOnceSubmitted(dir: string, emu: { readonly baseURL: string }): Promise<void> {
  const child = spawnCli(['apply', '--yes', '--json', '--base-url', emu.baseURL], dir);
  let submitted!: () => void;
  const running = new Promise<void>((resolve) => (submitted = resolve));
  const done = collect(child, (line) => {
    if (line.includes('"type":"job-submitted"')) submitted();
  });
  await running;
  child.kill('SIGINT');
  expect((await done).code).toBe(130);
}

async function stallingDownloads(target: string): Promise<{ readonly baseURL: string; readonly held: Promise<void> }> {
  const upstream = new URL(target);
  let sawDownload!: () => void;
  const held = new Promise<void>((resolve) => (sawDownload = resolve));
  const server = http.createServer((req, res) => {
    if ((req.url ?? '').includes('/content')) {
      sawDownload();
      return; // never answered; the client gives up when interrupted
    }
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { baseURL: `http://127.0.0.1:${address.port}${upstream.pathname}`, held };
}

describe('Ctrl-C while a completed job is downloading', () => {
  it('names the job as not downloaded (paid, and expiring), and the next run downloads it without a new job', async () => {
    const emu = await emulator();
    const proxy = await stallingDownloads(emu.baseURL);
    const dir = await tempProject({ 'videos.yaml': MANIFEST });

    const child = spawnCli(['apply', '--yes', '--json', '--base-url', proxy.baseURL], dir);
    const done = collect(child);
    await proxy.held;
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; notDownloaded?: unknown; summary?: { notDownloaded: number; created: number } });
    expect(events.find((e) => e.type === 'interrupted')?.notDownloaded).toEqual(['base']);
    expect(events.find((e) => e.type === 'run-finished')?.summary?.notDownloaded).toBe(1);

    // Straight to the emulator now: base is only downloaded, night is made once in all.
    const again = await apply(dir, emu);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/<= base\s+fetch/);
    const jobs = await listJobs(emu);
    expect(jobs.filter((j) => j.prompt === 'A lighthouse at dawn.')).toHaveLength(1);
    expect(jobs.filter((j) => j.prompt === 'The same lighthouse at night.')).toHaveLength(1);
    expect(Object.keys((await readLock(dir)).videos).sort()).toEqual(['base', 'night']);
    await expectLockMatchesDisk(dir);
  });

  it('says so in the plain log', async () => {
    const emu = await emulator();
    const proxy = await stallingDownloads(emu.baseURL);
    const dir = await tempProject({ 'videos.yaml': 'version: 1\noutDir: out\nvideos:\n  harbour: { prompt: A quiet harbour. }\n' });
    const child = spawnCli(['apply', '--yes', '--base-url', proxy.baseURL], dir);
    const done = collect(child);
    await proxy.held;
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stdout).toContain('interrupted: 1 completed job not downloaded yet (harbour); the API keeps outputs for about an hour; run `vidbuild apply` again to download them\n');
    expect(r.stdout).toMatch(/\nInterrupted: 0 created, 0 resumed, 0 restored, 0 unchanged, 0 failed, 1 not downloaded; /);
  });
});

describe('a prompt edited while a job of an interrupted run is still running', () => {
  it('the replaced job (paid for) is finished into the cache, so reverting the edit restores it for free', async () => {
    const emu = await emulator({ jobSeconds: 2 });
    const dir = await tempProject({ 'videos.yaml': manifest('A red kite.') });
    await interruptOnceSubmitted(dir, emu);
    const first = (await readLock(dir)).videos['clip']?.job.jobId;

    await fsp.writeFile(path.join(dir, 'videos.yaml'), manifest('A blue kite.'));
    const edited = await apply(dir, emu, ['--json']);
    expect(edited.code).toBe(0);
    const events = edited.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; state?: string; jobId?: string });
    expect(events.filter((e) => e.type === 'obsolete-job').map((e) => [e.state, e.jobId])).toEqual([
      ['finishing', first],
      ['cached', first],
    ]);

    await fsp.writeFile(path.join(dir, 'videos.yaml'), manifest('A red kite.'));
    const before = posts(emu);
    const reverted = await apply(dir, emu);
    expect(reverted.code).toBe(0);
    expect(reverted.stdout).toMatch(/<= clip\s+fetch\s+inputs changed, but generated before as job video_\w+: restore from cache/);
    expect(posts(emu)).toBe(before);
    expect((await readLock(dir)).videos['clip']?.job.jobId).toBe(first);
    await expectLockMatchesDisk(dir);
  });
});

describe('prune of a target whose job is still running', () => {
  it('says to prune again once the job has finished (the API deletes only finished jobs)', async () => {
    const emu = await emulator({ jobSeconds: 30 });
    const dir = await tempProject({ 'videos.yaml': 'version: 1\noutDir: out\nvideos:\n  gone: { prompt: "A slow one." }\n' });
    await interruptOnceSubmitted(dir, emu);
    const jobId = (await readLock(dir)).videos['gone']?.job.jobId ?? '';

    await fsp.writeFile(path.join(dir, 'videos.yaml'), 'version: 1\noutDir: out\nvideos: {}\n');
    const r = await vidbuild(['prune', '--yes', '--base-url', emu.baseURL], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^gone: could not delete job: job ${jobId} is still (queued|in_progress) and the API deletes only finished jobs; run \`vidbuild prune\` again once it has finished\n$`),
    );
    expect(Object.keys((await readLock(dir)).videos)).toEqual(['gone']);
  });
});

describe('a prompt edited after a run was killed between a paid call and saving its id', () => {
  it('the job that call created is found (videos.list) and finished into the cache, not forgotten', async () => {
    // Every response is held 1.5 s after the server acted: the kill lands while the id is on its way back.
    const emu = await emulator({ latencyMs: 1500, jobSeconds: 0.5 });
    const dir = await tempProject({ 'videos.yaml': manifest('A red kite.') });
    const child = spawnCli(['apply', '--yes', '--json', '--base-url', emu.baseURL], dir);
    const done = collect(child);
    // The server has made the job; the client has not heard its id.
    const jobCount = (): number => Object.values(emu.stats().jobs).reduce((a, n) => a + n, 0);
    while (jobCount() === 0) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await done;
    expect((await readLock(dir)).videos['clip']?.job.state).toBe('intent');
    const made = (await listJobs(emu))[0]?.id;

    await fsp.writeFile(path.join(dir, 'videos.yaml'), manifest('A blue kite.'));
    const edited = await apply(dir, emu);
    expect(edited.code).toBe(0);
    expect(edited.stdout).toContain(`✓ clip: obsolete job ${made} saved in the cache`);

    await fsp.writeFile(path.join(dir, 'videos.yaml'), manifest('A red kite.'));
    const before = posts(emu);
    const reverted = await apply(dir, emu);
    expect(reverted.code).toBe(0);
    expect(posts(emu)).toBe(before);
    expect((await readLock(dir)).videos['clip']?.job.jobId).toBe(made);
    await expectLockMatchesDisk(dir);
  });
});

describe('a prompt edited back to a cached version while a job of an interrupted run is still running', () => {
  it('restores the cached version and still finishes the running job into the cache', async () => {
    const emu = await emulator({ jobSeconds: 2 });
    const dir = await tempProject({ 'videos.yaml': manifest('A red kite.') });
    expect((await apply(dir, emu)).code).toBe(0);
    await fsp.writeFile(path.join(dir, 'videos.yaml'), manifest('A blue kite.'));
    await interruptOnceSubmitted(dir, emu);
    const blue = (await readLock(dir)).videos['clip']?.job.jobId;

    await fsp.writeFile(path.join(dir, 'videos.yaml'), manifest('A red kite.'));
    const back = await apply(dir, emu);
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/<= clip\s+fetch/);
    expect(back.stdout).toContain(`✓ clip: obsolete job ${blue} saved in the cache`);

    await fsp.writeFile(path.join(dir, 'videos.yaml'), manifest('A blue kite.'));
    const before = posts(emu);
    expect((await apply(dir, emu)).code).toBe(0);
    expect(posts(emu)).toBe(before);
    expect((await readLock(dir)).videos['clip']?.job.jobId).toBe(blue);
  });
});

describe('a prompt edited while a job runs, that run stopped too, then the edit reverted', () => {
  it('keeps the first job on record (.vidbuild/obsolete) and takes it back: two jobs paid, not three', async () => {
    const emu = await emulator({ jobSeconds: 4 });
    const dir = await tempProject({ 'videos.yaml': manifest('A red kite.') });
    await interruptOnceSubmitted(dir, emu);
    const red = (await readLock(dir)).videos['clip']?.job.jobId;

    // The edit's run is stopped too, while the red job still runs: the lock now names only the blue one.
    await fsp.writeFile(path.join(dir, 'videos.yaml'), manifest('A blue kite.'));
    await interruptOnceSubmitted(dir, emu);
    const blue = (await readLock(dir)).videos['clip']?.job.jobId;
    expect(blue).not.toBe(red);
    expect(await fsp.readdir(path.join(dir, '.vidbuild', 'obsolete'))).toEqual([`${red}.lock`]);

    // Reverted: the plan takes the red job back (resumed, or downloaded once done), at no cost.
    await fsp.writeFile(path.join(dir, 'videos.yaml'), manifest('A red kite.'));
    const planned = await vidbuild(['plan'], dir);
    expect(planned.stdout).toMatch(new RegExp(`clip\\s+(resume|fetch)\\s+these inputs were made before as job ${red} \\(an edit reverted\\)`));
    expect(planned.stdout).not.toMatch(/\$0\.[1-9]/);
    const before = posts(emu);
    const reverted = await apply(dir, emu);
    expect(reverted.code).toBe(0);
    expect(posts(emu)).toBe(before);
    expect((await listJobs(emu)).length).toBe(2);
    expect((await readLock(dir)).videos['clip']?.job.jobId).toBe(red);
    await expectLockMatchesDisk(dir);
    // The blue job, replaced in its turn, was finished into the cache and is off the record; so is the red one, held by the lock again.
    expect(reverted.stdout).toContain(`✓ clip: obsolete job ${blue} saved in the cache`);
    expect(await fsp.readdir(path.join(dir, '.vidbuild', 'obsolete'))).toEqual([]);
  });
});
