import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { cliEnv, emulator, posts } from '../apply/rig.js';
import { repoRoot, tempProject, twoClipManifest } from './watch-process.js';

/**
 * `vidbuild watch` on a paying backend at a real terminal (a pseudo-terminal
 * from util-linux `script`): the once-per-session y/N question, then the
 * session's own keys in raw mode. Keys are typed only once what they answer
 * is on screen.
 */
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasScript) console.warn('watch terminal tests SKIPPED: script(1) from util-linux not found');
const bin = process.env['VIDBUILD_BIN'] ?? path.join(repoRoot, 'bin', 'vidbuild.js');

interface Step {
  /** Type `keys` once the screen (from where the previous step matched) matches this. */
  readonly when: RegExp;
  readonly keys: string;
}

function inTerminal(args: readonly string[], cwd: string, steps: readonly Step[]): Promise<{ code: number | null; screen: string }> {
  const quoted = [process.execPath, bin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qfec', `stty cols 100 rows 20; exec ${quoted}`, '/dev/null'], {
    cwd,
    env: cliEnv({ VIDBUILD_EMULATOR_FPS: '4' }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let screen = '';
  let from = 0;
  let next = 0;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    screen += chunk;
    const step = steps[next];
    if (step === undefined) return;
    const m = step.when.exec(plain(screen.slice(from)));
    if (m === null) return;
    next++;
    from = screen.length;
    child.stdin.write(step.keys);
  });
  return new Promise((resolve) => {
    child.on('close', (code) => resolve({ code, screen: plain(screen.replace(/\r+\n/g, '\n')) }));
  });
}

function plain(screen: string): string {
  return screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

const QUESTION = /Continue\? \[y\/N\] /;

describe.skipIf(!hasScript)('vidbuild watch at a terminal, paying backend', () => {
  it('asks once: n, Ctrl-C and Ctrl-D submit nothing (Ctrl-C exits 130, no stack); y runs the session, whose q quits with 0', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': twoClipManifest('A kite.', 'A boat.') });
    const args = ['watch', '--base-url', emu.baseURL, '--max-cost', '2'];

    const no = await inTerminal(args, dir, [{ when: QUESTION, keys: 'n\r' }]);
    expect(no.code).toBe(1);
    expect(no.screen).toMatch(/watch submits paid jobs to http:\/\/127\.0\.0\.1:\d+\/v1 on every save \(budget \$2\.00 for the session\)/);
    expect(no.screen).toMatch(/watch: cancelled; nothing was submitted/);

    const ctrlC = await inTerminal(args, dir, [{ when: QUESTION, keys: '\x03' }]);
    expect(ctrlC.code).toBe(130);
    expect(ctrlC.screen).toMatch(/watch: cancelled/);
    expect(ctrlC.screen).not.toMatch(/internal error|\n\s+at /);

    const ctrlD = await inTerminal(args, dir, [{ when: QUESTION, keys: '\x04' }]);
    expect(ctrlD.code).toBe(1);
    expect(ctrlD.screen).toMatch(/watch: cancelled/);
    expect(ctrlD.screen).not.toMatch(/internal error|\n\s+at /);

    expect(posts(emu)).toBe(0);
    expect(existsSync(path.join(dir, 'videos.lock'))).toBe(false);

    // y: the first apply runs; then the keyboard belongs to the session (raw mode): q quits.
    const yes = await inTerminal(args, dir, [
      { when: QUESTION, keys: 'y\r' },
      { when: /watching \d+ file\(s\) for changes/, keys: 'q' },
    ]);
    expect(yes.code).toBe(0);
    expect(yes.screen).toMatch(/alpha: created/);
    expect(yes.screen).toMatch(/watch: stopped; session spent an estimated \$0\.80/);
    expect(posts(emu)).toBe(2);
  });

  it('Ctrl-C typed while a job runs stops the session with 130 and keeps the job id in videos.lock', async () => {
    const emu = await emulator({ jobSeconds: 30 });
    const dir = await tempProject({ 'videos.yaml': twoClipManifest('A kite.', 'A boat.') });
    const r = await inTerminal(['watch', '--yes', '--base-url', emu.baseURL], dir, [{ when: /in progress|submitted generate job/, keys: '\x03' }]);
    expect(r.code).toBe(130);
    expect(r.screen).toMatch(/watch: stopping/);
    expect(r.screen).toMatch(/ids are saved in videos\.lock/);
    expect(r.screen).not.toMatch(/internal error|\n\s+at /);
    expect(await readFile(path.join(dir, 'videos.lock'), 'utf8')).toMatch(/"jobId": "video_/);
  });
});
