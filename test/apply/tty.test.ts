import { spawn, spawnSync } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { askYesNo } from '../../src/cli/progress/confirm.js';
import { cliEnv, emulator, posts, repoRoot, tempProject } from './rig.js';

/**
 * apply and prune at a real terminal: a pseudo-terminal from util-linux
 * `script`, so stdin and stdout are TTYs and the y/N question is asked. The
 * answer is typed only once the question is on screen, as a person would.
 */
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const bin = path.join(repoRoot, 'bin', 'vidbuild.js');

interface TtyRun {
  readonly code: number | null;
  /** What the terminal showed, with \r\n turned into \n. */
  readonly screen: string;
}

/**
 * Runs `vidbuild ARGS` in a pseudo-terminal of `cols` columns and types
 * `keys` when `prompt` appears on it.
 */
function inTerminal(args: readonly string[], cwd: string, keys: string, cols = 100, prompt = '[y/N] '): Promise<TtyRun> {
  const quoted = [process.execPath, bin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // `exec` keeps the shell's pid for vidbuild, so `$$` is vidbuild's pid.
  const child = spawn('script', ['-qfec', `stty cols ${cols} rows 20; echo "pid=$$"; exec ${quoted}`, '/dev/null'], {
    cwd,
    env: cliEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let screen = '';
  let typed = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    screen += chunk;
    if (!typed && screen.includes(prompt)) {
      typed = true;
      if (keys.startsWith('signal:')) {
        const pid = /pid=(\d+)/.exec(screen)?.[1];
        if (pid !== undefined) process.kill(Number(pid), keys.slice('signal:'.length));
      } else child.stdin.write(keys);
    }
  });
  return new Promise((resolve) => {
    child.on('close', (code) => resolve({ code, screen: screen.replace(/\r+\n/g, '\n') }));
  });
}

/** The screen without ANSI sequences. */
function plain(screen: string): string {
  return screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

const ONE = 'version: 1\noutDir: out\nvideos:\n  a: { prompt: A field. }\n  b: { prompt: A hill. }\n';

describe.skipIf(!hasScript)('at a terminal', () => {
  it('asks before spending: n, Ctrl-C and Ctrl-D spend nothing; y applies with a live view that fits a narrow terminal and gives the cursor back', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': ONE });
    const args = ['apply', '--base-url', emu.baseURL];

    const no = await inTerminal(args, dir, 'n\r');
    expect(no.code).toBe(1);
    expect(plain(no.screen)).toMatch(/Spend about \$0\.80 on 2 jobs at http:\/\/127\.0\.0\.1:\d+\/v1\? \[y\/N\] /);
    expect(no.screen).toMatch(/Nothing was done\./);

    const ctrlC = await inTerminal(args, dir, '\x03');
    expect(ctrlC.code).toBe(130);
    expect(ctrlC.screen).toMatch(/Nothing was done\./);
    expect(ctrlC.screen).not.toMatch(/internal error|\n\s+at /);

    const ctrlD = await inTerminal(args, dir, '\x04');
    expect(ctrlD.code).toBe(1);
    expect(ctrlD.screen).toMatch(/Nothing was done\./);
    expect(ctrlD.screen).not.toMatch(/internal error|\n\s+at /);

    expect(posts(emu)).toBe(0);
    expect(existsSync(path.join(dir, 'videos.lock'))).toBe(false);

    const cols = 30;
    const yes = await inTerminal(args, dir, 'y\r', cols);
    expect(yes.code).toBe(0);
    expect(existsSync(path.join(dir, 'out', 'a.mp4'))).toBe(true);
    expect(posts(emu)).toBe(2);
    // The live block's lines (the ones redrawn in place) never wrap.
    const live = yes.screen.split('\x1b[J').slice(1).map((chunk) => plain(chunk).split('\n')).flat();
    const progressLines = live.filter((l) => /\d+%/.test(l));
    expect(progressLines.length).toBeGreaterThan(0);
    for (const l of progressLines) expect([...l].length, l).toBeLessThan(cols);
    // Whatever hid the cursor showed it again, last.
    expect(yes.screen.lastIndexOf('\x1b[?25h')).toBeGreaterThan(yes.screen.lastIndexOf('\x1b[?25l'));

    // A SIGTERM in the middle of the live view still gives the cursor back.
    const slow = await emulator({ jobSeconds: 30 });
    const dir2 = await tempProject({ 'videos.yaml': ONE });
    const termed = await inTerminal(['apply', '--yes', '--base-url', slow.baseURL], dir2, 'signal:SIGTERM', cols, 'in progress');
    expect(termed.code).toBe(143);
    expect(termed.screen).toMatch(/\x1b\[\?25l/);
    expect(termed.screen.lastIndexOf('\x1b[?25h')).toBeGreaterThan(termed.screen.lastIndexOf('\x1b[?25l'));

    // prune asks too.
    await fsp.writeFile(path.join(dir, 'videos.yaml'), 'version: 1\noutDir: out\nvideos:\n  a: { prompt: A field. }\n');
    const keep = await inTerminal(['prune', '--base-url', emu.baseURL], dir, 'n\r');
    expect(keep.code).toBe(1);
    expect(keep.screen).toMatch(/Nothing was deleted\./);
    expect(existsSync(path.join(dir, 'out', 'b.mp4'))).toBe(true);
    const prune = await inTerminal(['prune', '--base-url', emu.baseURL], dir, 'yes\r');
    expect(prune.code).toBe(0);
    expect(prune.screen).toMatch(/pruned b/);
    expect(existsSync(path.join(dir, 'out', 'b.mp4'))).toBe(false);
    expect(emu.stats().requests['DELETE /videos/{id}']).toBe(1);
  });

  it('says in the question how many jobs have no known price, instead of a bare sum', async () => {
    const emu = await emulator();
    const dir = await tempProject({
      'videos.yaml': `${ONE}  tall: { prompt: A tower., size: 1024x1792 }\nprovider: { capabilities: { models: { sora-2: { sizes: [1024x1792] } } } }\n`,
    });
    const no = await inTerminal(['apply', '--base-url', emu.baseURL], dir, 'n\r', 200);
    expect(no.code).toBe(1);
    expect(plain(no.screen)).toMatch(/Spend about \$0\.80 on 3 jobs \(1 of them has no known price, not in that sum\) at http:\/\/127\.0\.0\.1:\d+\/v1\? \[y\/N\] /);
    expect(posts(emu)).toBe(0);
  });
});

describe.skipIf(!hasScript)('the live view', () => {
  it('heads the running jobs with done/running/waiting counts, and repeats the failures under the summary', async () => {
    const emu = await emulator({ jobSeconds: 1 });
    const dir = await tempProject({
      'videos.yaml': 'version: 1\noutDir: out\nconcurrency: 1\nvideos:\n  a: { prompt: A field. }\n  bad: { prompt: "A storm [[fail:moderation_blocked]]" }\n  c: { prompt: A hill. }\n',
    });
    const r = await inTerminal(['apply', '--yes', '--base-url', emu.baseURL], dir, '', 100, 'never typed');
    expect(r.code).toBe(1);
    const live = r.screen.split('\x1b[J').slice(1).map((chunk) => plain(chunk).split('\n')).flat();
    expect(live).toContain('  0/3 done · 1 running · 2 waiting');
    expect(live.some((l) => /^ {2}[12]\/3 done · 1 running( · 1 waiting)?( · 1 failed)?$/.test(l))).toBe(true);
    const screen = plain(r.screen);
    expect(screen).toMatch(/\nDone: 2 created, .*1 failed.*\nFailed \(1\):\n {2}✗ bad: moderation_blocked: /);
  });
});

describe('askYesNo', () => {
  async function ask(feed: (input: PassThrough) => void): Promise<string> {
    const input = new PassThrough();
    const output = new PassThrough();
    const answer = askYesNo('go? [y/N] ', input, output);
    feed(input);
    return answer;
  }

  it('is yes only for y/yes; anything else, or the end of input, is no', async () => {
    expect(await ask((i) => i.write('y\n'))).toBe('yes');
    expect(await ask((i) => i.write('YES\n'))).toBe('yes');
    expect(await ask((i) => i.write('\n'))).toBe('no');
    expect(await ask((i) => i.write('maybe\n'))).toBe('no');
    expect(await ask((i) => i.end())).toBe('no');
  });
});
