import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { testPatternMp4 } from '../apply/media-fixtures.js';
import { cliEnv, collect, emulator, readLock, sha256File, spawnCli, tempProject, vidbuild } from '../apply/rig.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { s3Server } from './s3-server.js';

/**
 * A character's `char_…` id is part of the fingerprint of every video made
 * with it. Through the remote, every clone takes the id the first one
 * created, so the videos are restored, not paid for again; two runners at
 * once create it once.
 */
const MANIFEST = [
  'version: 1',
  'outDir: out',
  'characters: { host: { video: refs/host.mp4 } }',
  'videos:',
  '  hero: { prompt: The host waves at the camera., characters: [host], model: sora-2, size: 1280x720, seconds: 4 }',
  '  bow: { prompt: The host takes a bow., characters: [host], model: sora-2, size: 1280x720, seconds: 4 }',
  '  plain: { prompt: An empty stage., model: sora-2, size: 1280x720, seconds: 4 }',
  '',
].join('\n');

let hostVideo: Buffer | undefined;
async function clone(): Promise<string> {
  if (hostVideo === undefined) {
    const file = path.join(await tempProject({}), 'host.mp4');
    testPatternMp4(file);
    hostVideo = await fsp.readFile(file);
  }
  const dir = await tempProject({ 'videos.yaml': MANIFEST });
  await fsp.mkdir(path.join(dir, 'refs'));
  await fsp.writeFile(path.join(dir, 'refs', 'host.mp4'), hostVideo);
  return dir;
}

const creates = (emu: RunningEmulator, route: string): number => emu.stats().requests[route] ?? 0;
const characterOf = async (dir: string): Promise<string | undefined> => {
  const job = (await readLock(dir)).characters?.['host']?.job;
  return job?.state === 'created' ? job.characterId : undefined;
};

describe('characters through the remote', () => {
  it('a fresh clone takes the team’s character id, so its videos are restored for $0', async () => {
    const s3 = await s3Server();
    const emu = await emulator();
    const env = cliEnv({ ...s3.env, VIDBUILD_REMOTE: 's3://team/proj' });
    const a = await clone();
    const ra = await vidbuild(['apply', '--yes', '--base-url', emu.baseURL], a, env);
    expect(ra.code, ra.stderr).toBe(0);
    expect(creates(emu, 'POST /videos/characters')).toBe(1);
    expect(creates(emu, 'POST /videos')).toBe(3);

    const b = await clone();
    const rb = await vidbuild(['apply', '--yes', '--json', '--base-url', emu.baseURL], b, env);
    expect(rb.code, rb.stderr).toBe(0);
    expect(await characterOf(b)).toBe(await characterOf(a));
    expect(creates(emu, 'POST /videos/characters')).toBe(1);
    expect(creates(emu, 'POST /videos')).toBe(3);
    expect(rb.stdout).toContain('"reused":true');
    for (const name of ['hero', 'bow', 'plain']) await fsp.access(path.join(b, 'out', `${name}.mp4`));
  });

  it('a fresh clone plans the team’s character as a $0 reuse, so pull restores every video without creating anything', async () => {
    const s3 = await s3Server();
    const emu = await emulator();
    const env = cliEnv({ ...s3.env, VIDBUILD_REMOTE: 's3://team/proj' });
    const a = await clone();
    expect((await vidbuild(['apply', '--yes', '--base-url', emu.baseURL], a, env)).code).toBe(0);

    const b = await clone();
    const plan = await vidbuild(['plan'], b, env);
    expect(plan.code, plan.stderr).toBe(0);
    // Was `+ host (character) create` and $1.20 for the three videos.
    expect(plan.stdout).toMatch(/<= host \(character\)\s+fetch\s+not in videos\.lock, but created before from this video as char_\w+: reuse \(from remote cache\)/);
    expect(plan.stdout).toContain('Plan: 3 to fetch, 1 character to fetch. Estimated cost: $0.00');
    const pulled = await vidbuild(['pull', '--base-url', emu.baseURL], b, env);
    expect(pulled.code, pulled.stderr + pulled.stdout).toBe(0);
    expect(await characterOf(b)).toBe(await characterOf(a));
    expect(creates(emu, 'POST /videos/characters')).toBe(1);
    expect(creates(emu, 'POST /videos')).toBe(3);
    for (const name of ['hero', 'bow', 'plain']) await fsp.access(path.join(b, 'out', `${name}.mp4`));
    // Remembered in the clone's own cache too, as a restored entry is.
    const sha = await sha256File(path.join(b, 'refs', 'host.mp4'));
    await fsp.access(path.join(b, '.vidbuild', 'cache', 'characters', `${sha}-host.json`));
    expect((await vidbuild(['plan'], b, cliEnv(s3.env))).stdout).toContain('No changes.');
  });

  it('two clones at the same moment create the character once, and each video once', async () => {
    const s3 = await s3Server();
    const emu = await emulator({ latencyMs: 20 });
    const env = cliEnv({ ...s3.env, VIDBUILD_REMOTE: 's3://team/proj' });
    const [a, b] = [await clone(), await clone()];
    const args = ['apply', '--yes', '--json', '--base-url', emu.baseURL];
    const [ra, rb] = await Promise.all([collect(spawnCli(args, a, env)), collect(spawnCli(args, b, env))]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    expect(creates(emu, 'POST /videos/characters')).toBe(1);
    expect(creates(emu, 'POST /videos')).toBe(3);
    expect(await characterOf(a)).toBe(await characterOf(b));
    for (const dir of [a, b]) for (const name of ['hero', 'bow', 'plain']) await fsp.access(path.join(dir, 'out', `${name}.mp4`));
  });

  it('vidbuild push sends the characters a run could not', async () => {
    const s3 = await s3Server();
    const emu = await emulator();
    const a = await clone();
    // Made without the remote: only the local cache knows the character.
    expect((await vidbuild(['apply', '--yes', '--base-url', emu.baseURL], a, cliEnv(s3.env))).code).toBe(0);
    const env = cliEnv({ ...s3.env, VIDBUILD_REMOTE: 's3://team/proj' });
    const pushed = await vidbuild(['push', '--json'], a, env);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(JSON.parse(pushed.stdout)).toMatchObject({ ok: true, characters: 1, pushedEntries: 3 });
    const b = await clone();
    expect((await vidbuild(['apply', '--yes', '--base-url', emu.baseURL], b, env)).code).toBe(0);
    expect(await characterOf(b)).toBe(await characterOf(a));
    expect(creates(emu, 'POST /videos/characters')).toBe(1);
    expect(creates(emu, 'POST /videos')).toBe(3);
  });
});
