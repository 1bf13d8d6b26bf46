import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ffprobe from '@ffprobe-installer/ffprobe';
import { describe, expect, it, onTestFinished } from 'vitest';
import { apply, emulator, expectLockMatchesDisk, readLock, sha256File, tempProject } from './rig.js';
import { ffmpegRun, testPatternMp4, tool } from './media-fixtures.js';

/**
 * Characters and uploads end to end: a character created once from a local
 * MP4 and referenced by id in the create request, an edit and an extension
 * of local files, and an image reference, all sent as real multipart uploads
 * to the emulator (which checks the MIME types, sizes and durations).
 */
const MANIFEST = `version: 1
defaults: { model: sora-2, size: 1280x720, seconds: 4 }
outDir: out
characters:
  mascot: { video: refs/mascot.mp4 }
videos:
  hero:
    prompt: The mascot waves at the camera.
    characters: [mascot]
  opener:
    prompt: A red curtain opens.
    input_reference: refs/first.png
  edited:
    edit: { file: refs/clip.mp4 }
    prompt: Make it black and white.
  extended:
    extend: { file: refs/clip.mp4 }
    prompt: The pattern keeps scrolling.
    seconds: 4
`;

/** A 4 s 1280x720 test-pattern MP4, a second distinct clip, and a 1280x720 PNG. */
async function makeRefs(dir: string): Promise<void> {
  const refs = path.join(dir, 'refs');
  await fsp.mkdir(refs, { recursive: true });
  testPatternMp4(path.join(refs, 'mascot.mp4'));
  testPatternMp4(path.join(refs, 'clip.mp4'), 'testsrc2');
  ffmpegRun(['-f', 'lavfi', '-i', 'color=c=red:size=1280x720', '-frames:v', '1', path.join(refs, 'first.png')]);
}

function probe(file: string): { width: number; height: number; seconds: number } {
  const out = execFileSync(tool(ffprobe.path), ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height:format=duration', '-of', 'json', file], { encoding: 'utf8' });
  const parsed = JSON.parse(out) as { streams: { width: number; height: number }[]; format: { duration: string } };
  const s = parsed.streams[0];
  if (s === undefined) throw new Error(`${file}: no video stream`);
  return { width: s.width, height: s.height, seconds: Number(parsed.format.duration) };
}

interface EmulatorState {
  jobs: { id: string; kind: string; prompt: string; characters: string[]; render: { reference?: string | null } }[];
  characters: { id: string; name: string }[];
}

async function emulatorState(dir: string): Promise<EmulatorState> {
  return JSON.parse(await fsp.readFile(path.join(dir, 'state.json'), 'utf8')) as EmulatorState;
}

async function emulatorDir(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'vidbuild-apply-emu-'));
  onTestFinished(() => fsp.rm(d, { recursive: true, force: true }));
  return d;
}

describe('characters and uploads', () => {
  it('creates the character once, sends its id with the create, and uploads edit/extend files and the image reference', async () => {
    const emuDir = await emulatorDir();
    const emu = await emulator({ dir: emuDir });
    const dir = await tempProject({ 'videos.yaml': MANIFEST });
    await makeRefs(dir);

    const first = await apply(dir, emu);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const second = await apply(dir, emu);
    expect(second.code).toBe(0);
    const r = emu.stats().requests;
    expect(r['POST /videos/characters']).toBe(1);
    expect(r['POST /videos']).toBe(2);
    expect(r['POST /videos/edits']).toBe(1);
    expect(r['POST /videos/extensions']).toBe(1);

    const lock = await readLock(dir);
    const raw = JSON.parse(await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8')) as {
      characters: Record<string, { fileSha256: string; job: { state: string; characterId?: string } }>;
    };
    const mascot = raw.characters['mascot'];
    expect(mascot?.job.state).toBe('created');
    expect(mascot?.fileSha256).toBe(await sha256File(path.join(dir, 'refs', 'mascot.mp4')));
    const characterId = mascot?.job.characterId;
    expect(characterId).toMatch(/^char_/);

    const state = await emulatorState(emuDir);
    expect(state.characters).toEqual([expect.objectContaining({ id: characterId, name: 'mascot' })]);
    const heroJob = state.jobs.find((j) => j.id === lock.videos['hero']?.job.jobId);
    expect(heroJob?.characters).toEqual([characterId]);
    const openerJob = state.jobs.find((j) => j.id === lock.videos['opener']?.job.jobId);
    expect(openerJob?.characters).toEqual([]);
    // The image reference arrived intact (the emulator keeps uploads by sha256).
    expect(openerJob?.render.reference).toBe(await sha256File(path.join(dir, 'refs', 'first.png')));
    expect(state.jobs.find((j) => j.id === lock.videos['edited']?.job.jobId)?.kind).toBe('edit');
    expect(state.jobs.find((j) => j.id === lock.videos['extended']?.job.jobId)?.kind).toBe('extend');

    expect(await expectLockMatchesDisk(dir)).toBe(4);
    for (const name of ['hero', 'opener', 'edited']) {
      expect(probe(path.join(dir, 'out', `${name}.mp4`))).toMatchObject({ width: 1280, height: 720 });
    }
    // The extension is the uploaded 4 s clip plus 4 s of new footage.
    const ext = probe(path.join(dir, 'out', 'extended.mp4'));
    expect(ext).toMatchObject({ width: 1280, height: 720 });
    expect(ext.seconds).toBeGreaterThan(7);

    // Replacing the character's video replaces the character and, through
    // the fingerprint, the video that uses it, and nothing else.
    testPatternMp4(path.join(dir, 'refs', 'mascot.mp4'), 'smptebars');
    const third = await apply(dir, emu);
    expect(third.code).toBe(0);
    expect(emu.stats().requests['POST /videos/characters']).toBe(2);
    expect(emu.stats().requests['POST /videos']).toBe(3);
    expect(emu.stats().requests['POST /videos/edits']).toBe(1);
    const newId = (JSON.parse(await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8')) as typeof raw).characters['mascot']?.job.characterId;
    expect(newId).not.toBe(characterId);
    const heroNow = (await readLock(dir)).videos['hero']?.job.jobId;
    expect(heroNow).not.toBe(lock.videos['hero']?.job.jobId);
    expect((await emulatorState(emuDir)).jobs.find((j) => j.id === heroNow)?.characters).toEqual([newId]);
    await expectLockMatchesDisk(dir);
  });

  it('a character intent left by a crash is created again with a clear warning (no list endpoint to reconcile with)', async () => {
    const emu = await emulator();
    const dir = await tempProject({
      'videos.yaml': `version: 1
defaults: { model: sora-2, size: 1280x720, seconds: 4 }
outDir: out
characters:
  mascot: { video: refs/mascot.mp4 }
videos:
  hero:
    prompt: The mascot waves at the camera.
    characters: [mascot]
`,
    });
    await makeRefs(dir);
    const sha = await sha256File(path.join(dir, 'refs', 'mascot.mp4'));
    const intentAt = new Date().toISOString();
    await fsp.writeFile(
      path.join(dir, 'videos.lock'),
      `${JSON.stringify({ lockfileVersion: 1, characters: { mascot: { fileSha256: sha, video: 'refs/mascot.mp4', job: { state: 'intent', intentAt } } }, videos: {} }, null, 2)}\n`,
    );
    const r = await apply(dir, emu, ['--json']);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; message?: string });
    const warning = events.find((e) => e.type === 'warning' && /character mascot/.test(e.message ?? ''));
    expect(warning?.message).toMatch(/may already have created it; the API cannot list characters, so it may now exist twice/);
    expect(events.some((e) => e.type === 'character-created')).toBe(true);
    expect(emu.stats().requests['POST /videos/characters']).toBe(1);
    await expectLockMatchesDisk(dir);
  });
});
